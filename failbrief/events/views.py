"""POST /webhooks/v1/notification/: authenticate, validate, store, answer 202. Nothing slower."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from failbrief.events.intake import store_notice
from failbrief.events.parse import BadWebhook, parse_notice
from failbrief.metrics.record import note_refused_webhook, note_stored_webhook
from failbrief.orgs.models import Org
from failbrief.orgs.secrets import same_secret, secret_hash

KEY_HEADER = "X-Notification-Key"
NO_KEY_CONFIGURED = (
    "no webhook key is configured, so the endpoint refuses every request: set "
    "PREFECT_NOTIFICATIONS_WEBHOOK_KEY, or give an org its own key with "
    "'failbrief org add SLUG --webhook-key'"
)


class Refused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@csrf_exempt
@require_POST
def notification(request: HttpRequest) -> JsonResponse:
    # Counted by metrics/middleware.py once answered, by the result noted here; an exception (not
    # stored: the database did not answer, a bug) is lib/json_errors.py's 500, counted as an error.
    try:
        org = _authenticated_org(request)
        raw = _json_body(request)
        notice = parse_notice(raw)
    except Refused as exc:
        note_refused_webhook(request, exc.status)
        return JsonResponse({"detail": exc.detail}, status=exc.status)
    except BadWebhook as exc:
        note_refused_webhook(request, 400)
        return JsonResponse({"detail": str(exc)}, status=400)
    event, duplicate = store_notice(raw, notice, org)
    note_stored_webhook(request, duplicate, notice.starts_work)
    answer: dict[str, object] = {"event_id": event.pk, "duplicate": duplicate}
    if not notice.starts_work:
        answer |= {"ignored": True, "reason": event.status_reason}
    return JsonResponse(answer, status=202)


def _authenticated_org(request: HttpRequest) -> Org | None:
    """The org whose own key signed the request, or None for the global key. Raises Refused."""
    given = request.headers.get(KEY_HEADER, "")
    global_key = settings.PREFECT_NOTIFICATIONS_WEBHOOK_KEY
    if global_key is None and not Org.objects.filter(webhook_key_hash__isnull=False).exists():
        raise Refused(503, NO_KEY_CONFIGURED)
    if not given:
        raise Refused(401, f"missing {KEY_HEADER} header")
    if global_key is not None and same_secret(given, global_key):
        return None
    hashed = secret_hash(given)
    org = Org.objects.filter(webhook_key_hash=hashed).first()
    if org is None:
        # The key an org rotated away from, during its grace period (docs/pages.md, org settings).
        org = Org.objects.filter(
            webhook_key_previous_hash=hashed, webhook_key_previous_until__gt=timezone.now()
        ).first()
    if org is None:
        raise Refused(401, f"wrong {KEY_HEADER}")
    return org


def _json_body(request: HttpRequest) -> bytes:
    content_type = request.content_type or ""
    # Prefect's call-webhook block sends no Content-Type unless its headers set one, so a missing
    # type is accepted and the body must then parse as JSON.
    if content_type and content_type != "application/json" and not content_type.endswith("+json"):
        raise Refused(415, f"Content-Type must be application/json, not {content_type!r}")
    declared = request.META.get("CONTENT_LENGTH") or "0"
    limit = settings.WEBHOOK_MAX_BYTES
    if declared.isdigit() and int(declared) > limit:
        raise Refused(413, f"body is larger than {limit} bytes")
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise Refused(413, f"body is larger than {limit} bytes")
    return raw
