"""/api/v1/channels and /api/v1/notifications: where the org's summaries are sent, and what
became of each message. Channel configs carry secrets and are never shown back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja import Status as WithStatus
from ninja.errors import HttpError

from failbrief.api.auth import request_org
from failbrief.api.limits import limit_channel_test
from failbrief.api.listing import check_limit, narrowed
from failbrief.api.schemas import ErrorOut
from failbrief.notify.manage import (
    ChannelError,
    add_channel,
    get_channel,
    remove_channel,
    send_test,
    set_enabled,
)
from failbrief.notify.models import Notification, NotifyChannel

router = Router(tags=["notifications"])
Kind = Literal["slack", "discord", "teams", "email", "webhook"]


class ChannelOut(Schema):
    name: str
    kind: str
    hint: str  # identifies the destination without its secret
    enabled: bool
    created_at: datetime


class ChannelIn(Schema):
    name: str = Field(max_length=100)
    kind: Kind
    # slack/discord/teams: {"url"}; email: {"to": "a@x.org, b@y.org"}; webhook: {"url", "secret"?}
    config: dict[str, Annotated[str, Field(max_length=2000)]] = Field(max_length=10)


class ChannelCreatedOut(ChannelOut):
    secret: str | None = None  # the signed webhook's secret: shown this once


class ChannelPatch(Schema):
    enabled: bool


class TestOut(Schema):
    sent: bool
    reason: str


class NotificationOut(Schema):
    id: int
    channel: str
    summary_id: int
    flow_run_id: str
    status: str
    repeat_count: int
    attempts: int
    reason: str
    created_at: datetime
    sent_at: datetime | None


class NotificationParams(Schema):
    status: Notification.Status | None = None
    channel: str | None = None
    flow_run_id: str | None = None
    limit: int = 50


@router.get("/channels", response={200: list[ChannelOut]})
def list_channels(request: HttpRequest) -> list[ChannelOut]:
    return [
        ChannelOut.from_orm(c)
        for c in NotifyChannel.objects.filter(org=request_org(request)).order_by("name")
    ]


@router.post("/channels", response={201: ChannelCreatedOut, 400: ErrorOut})
def create_channel(request: HttpRequest, payload: ChannelIn) -> WithStatus[ChannelCreatedOut]:
    """Add a channel. Every completed summary of the org's failed runs is sent to it from now on."""
    try:
        channel, config = add_channel(request_org(request), payload.name, payload.kind, payload.config)
    except ChannelError as exc:
        raise HttpError(400, str(exc)) from None
    created = ChannelCreatedOut(**ChannelOut.from_orm(channel).dict(), secret=config.get("secret"))
    return WithStatus(201, created)


@router.patch("/channels/{name}", response={200: ChannelOut, 404: ErrorOut})
def update_channel(request: HttpRequest, name: str, payload: ChannelPatch) -> ChannelOut:
    return ChannelOut.from_orm(set_enabled(_channel(request, name), payload.enabled))


@router.delete("/channels/{name}", response={204: None, 404: ErrorOut})
def delete_channel(request: HttpRequest, name: str) -> WithStatus[None]:
    remove_channel(_channel(request, name))
    return WithStatus(204, None)


@router.post("/channels/{name}/test", response={200: TestOut, 404: ErrorOut})
def test_channel(request: HttpRequest, name: str) -> TestOut:
    """Send a sample message now and say whether it went through, within
    FAILBRIEF_NOTIFY_TEST_DEADLINE_SECONDS (5 s) however slowly the receiver answers."""
    limit_channel_test(request)
    reason = send_test(_channel(request, name))
    return TestOut(sent=not reason, reason=reason)


@router.get("/notifications", response={200: list[NotificationOut], 400: ErrorOut})
def list_notifications(request: HttpRequest, params: Query[NotificationParams]) -> list[NotificationOut]:
    """The newest messages first: sent, failed (with the reason), pending, or held as repeats."""
    check_limit(params.limit, 200)
    rows = Notification.objects.filter(channel__org=request_org(request)).select_related("channel", "summary")
    rows = narrowed(
        rows,
        status=params.status,
        channel__name=params.channel,
        summary__runs__flow_run_id=params.flow_run_id,
    )
    return [
        NotificationOut(
            id=n.pk,
            channel=n.channel.name,
            summary_id=n.summary_id,
            flow_run_id=n.summary.flow_run_id,
            status=n.status,
            repeat_count=n.repeat_count,
            attempts=n.attempts,
            reason=n.reason,
            created_at=n.created_at,
            sent_at=n.sent_at,
        )
        for n in rows.order_by("-pk")[: params.limit]
    ]


def _channel(request: HttpRequest, name: str) -> NotifyChannel:
    try:
        return get_channel(request_org(request), name)
    except ChannelError as exc:
        raise HttpError(404, str(exc)) from None
