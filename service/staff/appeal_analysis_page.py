"""The analysis of appeals in the coordinator's workspace (/coordinate/appeals/analysis).

Seed 001 §6.2: the head of the customer unit controls the deadlines and analyses the most
frequent complaint reasons. The figures are ``AnalysisService``'s (the same as
GET /api/v1/appeals/analysis), for a month (by default the current one) or a range of days,
both on the clock of the chosen territory (else of most of the caller's territories).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Controller, MediaType, Request, Response, get
from sqlalchemy import select

from service.appeals.analysis import EARLIEST, LATEST, AnalysisService, check_period
from service.appeals.services import WORKER_ROLES
from service.common.i18n import Language, format_month, format_share
from service.common.params import DbSession, uuid_or_none
from service.db.base import utcnow
from service.db.models import AppealReason, Territory
from service.errors import ValidationFailed
from service.staff.appeals_texts import appeal_texts
from service.staff.coordinate import user_name
from service.staff.coordinate_page import utc_offset
from service.staff.texts import input_date, long_day, parse_date
from service.staff.web import APPEALS, STAFF_PAGE_OPTIONS, StaffDep

PATH = f"{APPEALS.path}/analysis"
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_YEARS = (2000, 2099)


class PeriodRefused(ValueError):
    """The period asked for is not one; ``key`` names the page's text saying why."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True, slots=True)
class Period:
    """Days [first, last] on a zone's clock, as the instants [since, until)."""

    first: date
    last: date
    since: datetime
    until: datetime
    month: str | None  # "2026-12" when the period is a calendar month

    @property
    def instants(self) -> tuple[datetime, datetime]:
        """[since, until) within the API's bounds, which are UTC instants from 2000 to 2100,
        where the page's are days on a clock (1 January 2000 in Almaty starts in 1999 UTC)."""
        return max(self.since, EARLIEST), min(self.until, LATEST)


def _month_start(value: date) -> date:
    return value.replace(day=1)


def _next_month(value: date) -> date:
    return (value.replace(day=28) + timedelta(days=4)).replace(day=1)


# How far back the month list reaches; an older month still opens by its ?month= link.
_MONTHS_LISTED = 24


def month_choices(today: date, chosen: str, language: Language) -> list[tuple[str, str]]:
    """The month field's options, newest first: ``("2026-12", "декабрь 2026")``.

    A list, not the browser's month input, whose month names follow the browser's locale
    rather than the page's. The chosen month is listed even when it lies outside the range.
    """
    months, first = [], _month_start(today)
    for _ in range(_MONTHS_LISTED):
        months.append(first)
        first = _month_start(first - timedelta(days=1))
    found = _MONTH.fullmatch(chosen)
    if found and 1 <= int(found[2]) <= 12 and _YEARS[0] <= int(found[1]) <= _YEARS[1]:
        picked = date(int(found[1]), int(found[2]), 1)
        if picked not in months:
            months = sorted([*months, picked], reverse=True)
    return [(f"{m:%Y-%m}", format_month(datetime.combine(m, time(0)), language)) for m in months]


def _days(first: date, last: date, zone: ZoneInfo, month: str | None) -> Period:
    since = datetime.combine(first, time(0), zone)
    until = datetime.combine(last + timedelta(days=1), time(0), zone)
    period = Period(first, last, since, until, month)
    try:
        check_period(*period.instants)  # the API's rule (at most two years), not a copy of it
    except ValidationFailed:
        raise PeriodRefused("an.err.range" if month is None else "an.err.month") from None
    return period


def analysis_period(
    month: str | None, start: str | None, end: str | None, zone: ZoneInfo, now: datetime
) -> Period:
    """A month (``YYYY-MM``), else a range of typed days (both ends inclusive, ``dd.mm.yyyy``
    or ISO), else this month."""
    if start or end:
        try:
            first, last = parse_date(start or ""), parse_date(end or "")
        except ValueError:
            raise PeriodRefused("an.err.range") from None
        if (
            first > last
            or not _YEARS[0] <= first.year <= _YEARS[1]
            or not _YEARS[0] <= last.year <= _YEARS[1]
        ):
            raise PeriodRefused("an.err.range")
        return _days(first, last, zone, None)
    if month:
        found = _MONTH.fullmatch(month.strip())
        if not found or not 1 <= int(found[2]) <= 12:
            raise PeriodRefused("an.err.month")
        if not _YEARS[0] <= int(found[1]) <= _YEARS[1]:
            raise PeriodRefused("an.err.month")
        first = date(int(found[1]), int(found[2]), 1)
    else:
        first = _month_start(now.astimezone(zone).date())
    last = _next_month(first) - timedelta(days=1)
    return _days(first, last, zone, f"{first:%Y-%m}")


class AppealAnalysisController(Controller):
    """Complaint figures of a period in the caller's territories."""

    path = PATH
    include_in_schema = STAFF_PAGE_OPTIONS["include_in_schema"]
    opt = STAFF_PAGE_OPTIONS["opt"]
    dependencies = STAFF_PAGE_OPTIONS["dependencies"]
    exception_handlers = STAFF_PAGE_OPTIONS["exception_handlers"]

    @get("/", media_type=MediaType.HTML)
    async def analysis(
        self, request: Request[Any, Any, Any], staff: StaffDep, db_session: DbSession
    ) -> Response[Any]:
        """Reasons, territories, work types, technicians, on-time share and repeat customers."""
        # The analysis is for those who work appeals; dispatchers register them only.
        if (refused := staff.refusal(APPEALS, roles=WORKER_ROLES)) is not None:
            return refused
        actor = staff.session.actor  # type: ignore[union-attr]
        params = request.query_params
        stmt = select(Territory.id, Territory.name, Territory.time_zone).order_by(Territory.name)
        if not actor.is_admin:
            stmt = stmt.where(Territory.id.in_(actor.territory_ids))
        places = {row.id: (row.name, row.time_zone) for row in await db_session.execute(stmt)}
        territory = uuid_or_none(params.get("territory"))
        if params.get("territory") and territory not in places:
            # Not one of the caller's territories (or no territory at all): nothing to show.
            return staff.not_found()
        zone_key = (
            places[territory][1]
            if territory is not None
            else (Counter(z for _, z in places.values()).most_common(1) or [("UTC", 0)])[0][0]
        )
        zone, now = ZoneInfo(zone_key), utcnow()
        at = appeal_texts(staff.language)
        context: dict[str, Any] = {
            **staff.layout(APPEALS, await user_name(db_session, actor.user_id)),
            "at": at,
            "tab": "analysis",
            "territories": [(str(i), name) for i, (name, _) in places.items()],
            "territory": str(territory) if territory else "",
            "form": {k: params.get(k, "") for k in ("month", "from", "to")},
            "months": month_choices(
                now.astimezone(zone).date(), params.get("month") or "", staff.language
            ),
        }
        try:
            period = analysis_period(
                params.get("month"), params.get("from"), params.get("to"), zone, now
            )
        except PeriodRefused as exc:
            return staff.page(
                "staff/appeals/analysis.html.j2", {**context, "error": at[exc.key]}, 422
            )
        figures = await AnalysisService(db_session, actor).figures(*period.instants, territory)
        reasons = {
            row.code: (row.names.get(staff.language) or row.code, row.active)
            for row in await db_session.execute(
                select(AppealReason.code, AppealReason.names, AppealReason.active)
            )
        }
        language: Language = staff.language
        complaints = figures.complaints

        def rows(counted: list[Any], label: Any) -> list[dict[str, Any]]:
            return [
                {
                    "label": label(r),
                    "n": r.complaints,
                    "share": format_share(
                        r.complaints / complaints if complaints else None, language
                    ),
                }
                for r in counted
            ]

        base = {"territory": str(territory)} if territory else {}
        first = period.first
        previous_month = _month_start(first - timedelta(days=1))
        return staff.page(
            "staff/appeals/analysis.html.j2",
            {
                **context,
                "form": {
                    "month": period.month or "",
                    "from": "" if period.month else input_date(period.first, language),
                    "to": "" if period.month else input_date(period.last, language),
                },
                "period": at["an.period"].format(
                    period=" — ".join(long_day(d, language) for d in (period.first, period.last)),
                    zone=zone_key,
                    offset=utc_offset(period.since),
                ),
                "previous_url": f"{PATH}?"
                + urlencode({**base, "month": f"{previous_month:%Y-%m}"}),
                "next_url": f"{PATH}?"
                + urlencode({**base, "month": f"{_next_month(first):%Y-%m}"}),
                "f": figures,
                "on_time": format_share(figures.due_on_time_share, language),
                "by_reason": rows(
                    figures.by_reason,
                    lambda r: (
                        reasons.get(r.key, (r.key, True))[0]
                        + ("" if reasons.get(r.key, ("", True))[1] else f" ({at['an.retired']})")
                    ),
                ),
                "by_territory": rows(figures.by_territory, lambda r: r.name or r.key),
                "by_work_type": rows(
                    figures.by_work_type, lambda r: context["st"].get(f"type.{r.key}", r.key)
                ),
                "by_technician": rows(figures.by_technician, lambda r: r.name or r.key),
                "repeat_customers": [
                    {
                        "name": c.name,
                        "n": c.complaints,
                        "appeals": [
                            (a.id, a.number, f"{a.registered_at.astimezone(zone):%d.%m.%Y}")
                            for a in c.appeals
                        ],
                    }
                    for c in figures.repeat_customers
                ],
            },
        )
