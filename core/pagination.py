"""Keyset pagination for the HTML lists (the API uses DRF's CursorPagination): a page is the
rows after the last one shown, found by an index in constant time however deep the page, and
the cursor is opaque to the user."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet


class BadCursor(ValueError):
    """The cursor was not made by this module (edited or truncated)."""


@dataclass
class KeysetPage:
    rows: list
    next_cursor: str | None


def _encode(created_at: datetime, pk: int) -> str:
    raw = json.dumps([created_at.isoformat(), pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, pk = json.loads(raw)
        return datetime.fromisoformat(stamp), int(pk)
    except (ValueError, TypeError) as exc:
        raise BadCursor(str(exc)) from None


def keyset_page(queryset: QuerySet, *, cursor: str | None, size: int) -> KeysetPage:
    """The ``size`` rows of ``queryset`` newest first (``-created_at, -pk``) after ``cursor``;
    one query (size + 1 rows, the extra one saying whether a next page exists). Raises
    BadCursor."""
    queryset = queryset.order_by("-created_at", "-pk")
    if cursor:
        created_at, pk = _decode(cursor)
        queryset = queryset.filter(
            Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=pk)
        )
    rows = list(queryset[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return KeysetPage(rows, _encode(rows[-1].created_at, rows[-1].pk) if more else None)
