"""What every list endpoint does alike: check the page size asked for, narrow by the filters a
caller gave, read a `since` as UTC, and page newest first by id with an opaque cursor."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TypeVar

from django.db.models import Model, QuerySet
from ninja.errors import HttpError

Row = TypeVar("Row", bound=Model)
# ASCII digits within a row id's range: str.isdigit() also takes "²", which int() refuses.
CURSOR = re.compile(r"[0-9]{1,18}")


def check_limit(limit: int, most: int) -> None:
    if not 1 <= limit <= most:
        raise HttpError(400, f"limit must be between 1 and {most}")


def in_utc(since: datetime | None) -> datetime | None:
    if since is None:
        return None
    try:
        return since.astimezone(UTC) if since.tzinfo else since.replace(tzinfo=UTC)
    except OverflowError:
        raise HttpError(400, "since is out of range") from None


def narrowed(rows: QuerySet[Row], **lookups: object) -> QuerySet[Row]:
    """`rows` filtered by each lookup the caller gave a value; an absent filter (None, "") is no filter."""
    given = {lookup: value for lookup, value in lookups.items() if value not in (None, "")}
    return rows.filter(**given) if given else rows


def keyset_page(rows: QuerySet[Row], cursor: str | None, limit: int) -> tuple[list[Row], str | None]:
    """The `limit` rows (newest first by id) after `cursor`, and the cursor of the next page."""
    if cursor:
        if not CURSOR.fullmatch(cursor):
            raise HttpError(400, "cursor is not one this API gave out")
        rows = rows.filter(pk__lt=int(cursor))
    page = list(rows[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return page, str(page[-1].pk) if more else None
