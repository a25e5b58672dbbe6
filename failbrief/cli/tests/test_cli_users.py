"""failbrief user invite, as an operator uses it: a second invitation for the same person replaces
the first, so a link sent to the wrong place (or with the wrong role) is stopped by inviting again."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

from failbrief.cli import main
from failbrief.orgs.manage import add_org
from failbrief.pages.invites import InviteError, open_invite


def failbrief(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def token_of(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[-1]


def test_inviting_again_stops_the_earlier_link(db):
    add_org("acme")
    first = failbrief("user", "invite", "acme", "ops@example.org", "--admin")
    again = failbrief("user", "invite", "acme", "OPS@example.org")

    assert again.exit_code == 0, again.output
    assert "the earlier link for ops@example.org (admin) stops working" in again.stderr
    with pytest.raises(InviteError):
        open_invite(token_of(first.stdout.strip()))
    assert open_invite(token_of(again.stdout.strip())).role == "member"


def test_an_invitation_to_another_org_leaves_the_first_alone(db):
    add_org("acme")
    add_org("beta")
    first = failbrief("user", "invite", "acme", "ops@example.org")
    other = failbrief("user", "invite", "beta", "ops@example.org")

    assert "stops working" not in other.stderr
    assert open_invite(token_of(first.stdout.strip())).org.slug == "acme"
