"""/api/v1/org: the token's org, its LLM settings and its LLM opt-in. Keys are never shown."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.errors import HttpError

from failbrief.api.auth import request_org
from failbrief.api.schemas import ErrorOut
from failbrief.orgs.manage import OrgError, set_llm_optin
from failbrief.orgs.models import Org
from failbrief.summarize.providers.registry import choice_for, model_for, provider_name_for

router = Router(tags=["org"])


class OrgOut(Schema):
    slug: str
    name: str
    llm_optin: bool
    llm_optin_by: str
    llm_optin_at: datetime | None
    llm_provider: str  # the org's override, else LLM_PROVIDER
    llm_model: str  # the model that provider would be asked with
    summarizer: str  # what summarizes this org's failures now: "offline" until it opts in

    # django-ninja reads the other fields off the Org; these three are worked out.
    @staticmethod
    def resolve_llm_provider(org: Org) -> str:
        return provider_name_for(org)

    @staticmethod
    def resolve_llm_model(org: Org) -> str:
        return model_for(provider_name_for(org), org.llm_model)

    @staticmethod
    def resolve_summarizer(org: Org) -> str:
        choice = choice_for(org)
        return choice.provider if choice else "offline"


class OptinIn(Schema):
    optin: bool
    by: str = Field(max_length=200)  # who decides (an email); recorded with the time


@router.get("/org", response={200: OrgOut})
def this_org(request: HttpRequest) -> OrgOut:
    return OrgOut.from_orm(request_org(request))


@router.post("/org/llm-optin", response={200: OrgOut, 400: ErrorOut})
def llm_optin(request: HttpRequest, payload: OptinIn) -> OrgOut:
    """Let this org's condensed, redacted logs go to the configured LLM (`optin: true`), or stop it.
    Until an org opts in, its summaries are written offline and nothing is sent to an LLM."""
    org = request_org(request)
    try:
        set_llm_optin(org, payload.optin, payload.by.strip())
    except OrgError as exc:
        raise HttpError(400, str(exc)) from None
    return OrgOut.from_orm(org)
