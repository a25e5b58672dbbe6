"""An org's Airbyte settings that could only fail later, quietly, are refused when they are set."""

from __future__ import annotations

import pytest

from failbrief.orgs.manage import OrgError, add_org, set_airbyte
from failbrief.sources.airbyte_jobs import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    ["https://api.airbyte.com/v1", "http://airbyte:8000/api/public/v1", "http://airbyte:8000/v1/"],
)
def test_airbytes_public_api_is_refused_with_the_config_api_named(url):
    # The public API has no attempt logs: every summary would silently fall back to Prefect's.
    org = add_org("acme")
    with pytest.raises(OrgError, match=r"Config API.*/api/v1"):
        set_airbyte(org, url=url)


@pytest.mark.parametrize(
    "url", ["https://admin:s3cr3t-pw@api.airbyte.com/v1", "ftp://admin:s3cr3t-pw@airbyte:8000/api/v1"]
)
def test_a_refused_airbyte_url_is_shown_without_its_password(url):
    # The refusal is printed by the CLI and shown on the settings page.
    with pytest.raises(OrgError) as refused:
        set_airbyte(add_org("acme"), url=url)
    assert "s3cr3t-pw" not in str(refused.value)
    assert "airbyte" in str(refused.value)


def test_a_token_without_the_orgs_own_url_is_refused_not_silently_ignored(settings):
    settings.AIRBYTE_API_URL, settings.AIRBYTE_API_TOKEN = "http://shared:8000/api/v1", "platform"
    org = add_org("acme")
    with pytest.raises(OrgError, match="--airbyte-url"):
        set_airbyte(org, token="acme-own-token")
    set_airbyte(org, url="http://acme-airbyte:8000/api/v1", token="acme-own-token")
    org.refresh_from_db()
    client = client_for(org)
    assert client is not None
    set_airbyte(org, token="")  # removing the token keeps the URL, and is fine
