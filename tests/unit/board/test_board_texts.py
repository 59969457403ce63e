"""The board's texts and formatting: every label the templates use exists in every language."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from service.board import schemas
from service.board.texts import (
    LANGUAGES,
    TEXTS,
    format_datetime,
    format_span,
    pick_language,
    text,
)
from service.board.view import PRIORITIES, WORK_TYPES, BoardQuery
from service.common.i18n import format_month, format_share

TEMPLATES = Path(__file__).resolve().parents[3] / "service" / "templates" / "board"


def test_every_template_label_exists() -> None:
    used = set()
    for template in TEMPLATES.glob("*.j2"):
        used |= set(re.findall(r"""t\[["']([\w.]+)["']\]""", template.read_text()))
    assert used
    assert used <= set(TEXTS), used - set(TEXTS)


def test_every_code_has_a_label() -> None:
    codes = [
        *(f"bucket.{b}" for b in schemas.BUCKETS),
        *(f"type.{t}" for t in WORK_TYPES),
        *(f"priority.{p}" for p in PRIORITIES),
        *(f"level.{level}" for level in ("warning", "breach", "head")),
        *(f"target.{t}" for t in ("response", "arrival", "resolution")),
    ]
    for code in codes:
        assert code in TEXTS, code
    for entry in TEXTS.values():
        assert all(value.strip() for value in entry)


def test_unknown_codes_fall_back_to_the_code() -> None:
    assert text("event.something.new", "en") == "something.new"


@pytest.mark.parametrize(
    ("explicit", "header", "expected"),
    [
        (("kk",), None, "kk"),
        ((None, "en"), "ru", "en"),
        (("de", None), "en-GB,en;q=0.9", "en"),
        ((None,), "de, kk;q=0.5, ru;q=0.4", "kk"),
        ((None,), "ru;q=0.2, en;q=0.8", "en"),
        ((None,), "en;q=0", "ru"),
        ((None,), "en;q=abc", "ru"),
        ((), None, "ru"),
    ],
)
def test_pick_language(explicit: tuple[str | None, ...], header: str | None, expected: str) -> None:
    assert pick_language(*explicit, accept_language=header) == expected


def test_formats_per_language() -> None:
    moment = datetime(2026, 3, 9, 7, 5, tzinfo=timezone(timedelta(hours=5)))
    assert format_datetime(moment, "ru") == "09.03.2026 07:05"
    assert format_datetime(moment, "en") == "9 Mar 2026, 07:05"
    assert format_month(moment, "ru") == "март 2026"
    assert format_month(moment, "kk") == "2026 жылғы наурыз"
    assert format_month(moment, "en") == "March 2026"
    assert format_share(0.8567, "ru") == "85,7\u00a0%"
    assert format_share(0.5, "en") == "50%"
    assert format_share(None, "kk") == "—"
    assert format_span(-45, "en") == "45 min"
    assert format_span(150, "ru") == "2 ч 30 мин"
    assert format_span(60 * 50, "kk") == "2 күн 2 сағ"
    assert set(LANGUAGES) == {"ru", "kk", "en"}


def test_board_query_is_lenient_and_round_trips() -> None:
    territory = "5b1f3c1e-4a9f-4d55-9a0c-1d2e3f4a5b6c"
    query = BoardQuery.parse(
        {"territory": territory, "type": "repair", "bucket": "nope", "cursor": "!!", "x": "y"}
    )
    assert str(query.territory) == territory
    assert query.type == "repair"
    assert query.bucket is None
    assert query.cursor is None
    assert query.url() == f"/board?territory={territory}&type=repair"
    assert (
        query.url(type=None, priority="urgent") == f"/board?territory={territory}&priority=urgent"
    )
    assert BoardQuery().url() == "/board"
