"""Fixtures shared by the API tests."""

from __future__ import annotations

from typing import Any

import pytest

from failbrief.orgs.manage import add_org, create_token


@pytest.fixture
def two_orgs(db: None) -> tuple[tuple[Any, str], tuple[Any, str]]:
    """Two orgs, each with a Bearer token: ((org_a, token_a), (org_b, token_b))."""
    a, b = add_org("org-a"), add_org("org-b")
    return (a, create_token(a)), (b, create_token(b))
