"""An org's settings, for its admins: LLM opt-in and provider, webhook key rotation, API tokens,
notification channels, the Prefect connection check. A secret (a key, a token, a channel's URL or
signing secret) is shown once, in the answer to the request that made it, and never again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from ninja.errors import HttpError

from failbrief.api.limits import RateLimited, limit
from failbrief.notify.channels.registry import CHANNELS
from failbrief.notify.manage import ChannelError, add_channel, get_channel, remove_channel, send_test
from failbrief.notify.models import NotifyChannel
from failbrief.orgs.manage import OrgError, create_token, rotate_webhook_key, set_llm, set_llm_optin
from failbrief.orgs.models import ApiToken
from failbrief.pages.access import Seat, admin_page
from failbrief.pages.once import first_time, new_once, release
from failbrief.runs.automation import ONCE, automation_name, check, prefect_http
from failbrief.summarize.providers.registry import choice_for, model_for, provider_name_for

URL_KINDS = ("slack", "discord", "teams", "webhook")
CHANNEL_NAME_MAX = NotifyChannel._meta.get_field("name").max_length or 100


def _page(request: HttpRequest, seat: Seat, **extra: Any) -> HttpResponse:
    org = seat.org
    provider = provider_name_for(org)
    choice = choice_for(org)
    context = {
        "seat": seat,
        "org": org,
        "providers": sorted(settings.LLM_PROVIDERS),
        "effective_provider": provider,
        "effective_model": model_for(provider, org.llm_model),
        "summarizer": choice.provider if choice else "offline",
        "tokens": ApiToken.objects.filter(org=org).order_by("-created_at"),
        "channels": NotifyChannel.objects.filter(org=org).order_by("name"),
        "kinds": list(CHANNELS),
        "previous_key_valid": bool(
            org.webhook_key_previous_until and org.webhook_key_previous_until > timezone.now()
        ),
        "grace_hours": settings.WEBHOOK_KEY_GRACE_HOURS,
        "once": new_once(),
        **extra,
    }
    response = render(request, "pages/settings.html", context)
    response["Cache-Control"] = "no-store"  # a secret shown once must not be kept by a cache
    return response


@never_cache
@require_GET
@admin_page
def org_settings(request: HttpRequest, seat: Seat) -> HttpResponse:
    return _page(request, seat)


@require_POST
@admin_page
def llm(request: HttpRequest, seat: Seat) -> HttpResponse:
    optin = request.POST.get("optin") == "on"
    provider = request.POST.get("provider", "").strip()
    model = request.POST.get("model", "").strip()[:200]
    try:
        set_llm(seat.org, provider=provider, model=model)
        if optin != seat.org.llm_optin:
            set_llm_optin(seat.org, optin, by=seat.user.email or seat.user.username)
    except OrgError as exc:
        messages.error(request, str(exc))
        return redirect("pages:settings", seat.org.slug)
    messages.success(request, "LLM settings saved.")
    return redirect("pages:settings", seat.org.slug)


@require_POST
@admin_page
def rotate_key(request: HttpRequest, seat: Seat) -> HttpResponse:
    try:
        hours = float(request.POST.get("grace_hours", settings.WEBHOOK_KEY_GRACE_HOURS))
    except ValueError:
        hours = -1
    if not 0 <= hours <= 24 * 30:
        messages.error(request, "The grace period must be between 0 and 720 hours.")
        return redirect("pages:settings", seat.org.slug)
    if not first_time(request, "rotate-key"):
        messages.warning(
            request,
            "This form was already sent: the key was rotated then and the new key shown once, in "
            "that answer. Not rotated again; if you did not copy the new key, rotate again.",
        )
        return redirect("pages:settings", seat.org.slug)
    key = rotate_webhook_key(seat.org, timedelta(hours=hours))
    shown = {"what": "webhook key", "value": key, "how": "Put it in the Prefect block's X-Notification-Key"}
    return _page(request, seat, shown_once=shown)


@require_POST
@admin_page
def new_token(request: HttpRequest, seat: Seat) -> HttpResponse:
    if not first_time(request, "new-token"):
        messages.warning(
            request,
            "This form was already sent: the token was created then and shown once, in that answer. "
            "Not created again; if you did not copy it, revoke it below and create another.",
        )
        return redirect("pages:settings", seat.org.slug)
    token = create_token(seat.org, request.POST.get("label", "").strip()[:200])
    shown = {"what": "API token", "value": token, "how": "Send it as Authorization: Bearer <token>"}
    return _page(request, seat, shown_once=shown)


@require_POST
@admin_page
def revoke_token(request: HttpRequest, seat: Seat, token_id: int) -> HttpResponse:
    first = first_time(request, f"revoke-token-{token_id}")
    deleted, _ = ApiToken.objects.filter(org=seat.org, pk=token_id).delete()
    if not deleted and not first:
        messages.success(request, "Token revoked.")  # by the first of the form's two sends
        return redirect("pages:settings", seat.org.slug)
    if not deleted:
        raise Http404("no such token")
    messages.success(request, "Token revoked.")
    return redirect("pages:settings", seat.org.slug)


@require_POST
@admin_page
def new_channel(request: HttpRequest, seat: Seat) -> HttpResponse:
    kind = request.POST.get("kind", "")
    raw: dict[str, str] = {}
    if kind in URL_KINDS:
        raw["url"] = request.POST.get("url", "").strip()[:2000]
    if kind == "webhook" and (secret := request.POST.get("secret", "").strip()):
        raw["secret"] = secret[:2000]
    if kind == "email":
        raw["to"] = request.POST.get("to", "").strip()[:2000]
    name = request.POST.get("name", "").strip()
    if not first_time(request, "new-channel"):
        also = ""
        if kind == "webhook" and "secret" not in raw:
            also = (
                "; its signing secret was shown once, in that answer: if you did not copy it, "
                "remove the channel and add it again"
            )
        done = f"This form was already sent: channel {name[:100]} was already added then{also}."
        messages.warning(request, done)
        return redirect("pages:settings", seat.org.slug)
    try:
        if len(name) > CHANNEL_NAME_MAX:  # cut, it would be another name than the one typed
            raise ChannelError(f"a channel name has at most {CHANNEL_NAME_MAX} characters, not {len(name)}")
        channel, config = add_channel(seat.org, name, kind, raw)
    except ChannelError as exc:
        release(request, "new-channel")  # nothing was done: the same form may be sent again
        # Back as typed (the URL too: it was not stored, and the answer is no-store), but for a
        # signing secret, with the reason above the form.
        typed = {key: request.POST.get(key, "").strip()[:2000] for key in ("name", "kind", "url", "to")}
        response = _page(request, seat, channel_form=typed, channel_error=f"Channel not added: {exc}")
        response.status_code = 400
        return response
    if kind == "webhook" and "secret" not in raw:
        shown = {
            "what": f"signing secret of channel {channel.name}",
            "value": config["secret"],
            "how": "Check X-Failbrief-Signature with it (docs/notifications.md)",
        }
        return _page(request, seat, shown_once=shown)
    messages.success(request, f"Channel {channel.name} added.")
    return redirect("pages:settings", seat.org.slug)


def _channel(seat: Seat, name: str) -> NotifyChannel:
    try:
        return get_channel(seat.org, name)
    except ChannelError:
        raise Http404("no such channel") from None


@require_POST
@admin_page
def test_channel(request: HttpRequest, seat: Seat, name: str) -> HttpResponse:
    channel = _channel(seat, name)
    if not first_time(request, f"test-channel-{name}"):
        messages.warning(
            request, f"This form was already sent: one test message went to {channel.name} then."
        )
        return redirect("pages:settings", seat.org.slug)
    try:
        what = "channel tests for this org"
        limit(request, "channel-test", str(seat.org.pk), settings.RATE_CHANNEL_TEST, what)
    except (RateLimited, HttpError) as exc:
        messages.error(request, f"Not sent: {exc}")
        return redirect("pages:settings", seat.org.slug)
    reason = send_test(channel)
    if reason:
        messages.error(request, f"The test message to {channel.name} was not delivered: {reason}")
    else:
        messages.success(request, f"A test message went to {channel.name}.")
    return redirect("pages:settings", seat.org.slug)


@require_POST
@admin_page
def delete_channel(request: HttpRequest, seat: Seat, name: str) -> HttpResponse:
    first = first_time(request, f"remove-channel-{name}")
    try:
        channel = _channel(seat, name)
    except Http404:
        if first:
            raise
        channel = None  # removed by the first of the form's two sends
    if channel is not None:
        remove_channel(channel)
    messages.success(request, f"Channel {name} removed.")
    return redirect("pages:settings", seat.org.slug)


@require_POST
@admin_page
def check_prefect(request: HttpRequest, seat: Seat) -> HttpResponse:
    """What `failbrief check-prefect` says, for the automation that reports this org's runs."""
    name = automation_name(seat.org.slug if seat.org.webhook_key_hash else None)
    # Once, as `failbrief check`: the admin waits on the page, and a silent Prefect would otherwise
    # cost a timeout per retry and their backoffs.
    with prefect_http(
        settings.PREFECT_API_URL, settings.PREFECT_API_KEY, settings.PREFECT_TIMEOUT_SECONDS, ONCE
    ) as http:
        health = check(http, name)
    return _page(request, seat, health=health, automation=name)
