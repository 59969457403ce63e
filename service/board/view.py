"""What the coordinator board shows: the overdue board, KPIs and escalations, in one language.

The figures come from the same services as the JSON API (``OverdueBoard``, ``KpiService``,
``EscalationService``); this module only gathers them for one caller and turns codes and
times into text for the template.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, get_args
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.appeals.schemas import AppealKpi
from service.appeals.services import WORKER_ROLES
from service.board import schemas
from service.board.kpis import PRIMARY_ONLY, KpiQuery, KpiService, kpi_period
from service.board.overdue import BoardFilters, OverdueBoard
from service.board.texts import (
    LANGUAGE_NAMES,
    LANGUAGES,
    BoardLanguage,
    all_texts,
    format_datetime,
    format_number,
    format_short,
    format_span,
    text,
)
from service.common.actor import Actor, Role
from service.common.i18n import format_month, format_share
from service.common.pagination import decode_cursor
from service.common.params import uuid_or_none
from service.common.scope import territory_condition
from service.db.base import utcnow
from service.db.models import AppealReason, Technician, Territory, User
from service.db.models.technicians import technician_territories
from service.db.models.work_orders import Priority, WorkType
from service.db.standby import StandbyReads
from service.errors import ValidationFailed
from service.escalations import schemas as escalation_schemas
from service.escalations.services import EscalationService, may_acknowledge
from service.incidents.schemas import Incident
from service.incidents.services import IncidentService
from service.sla.holiday_sources import calendars_without_year

PAGE_SIZE = 25
ESCALATION_LIMIT = 50
INCIDENT_LIMIT = 20
# Acknowledged incidents stay on the board (below the open ones) for a day, for the next shift.
INCIDENT_RECENT = timedelta(hours=24)
OPTION_LIMIT = 500
WORK_TYPES: tuple[str, ...] = get_args(WorkType)
PRIORITIES: tuple[str, ...] = get_args(Priority)
_CURSOR_MAX = 200
# A complaint reason's names by code, by language.
ReasonNames = Mapping[str, Mapping[str, str]]

# Every coordinator's board refreshes each minute, and month-to-date KPIs read a month of
# records (about 1.7 s at 100,000 orders a month, `make bench`) while moving slowly: each
# scope's figures are reused for a few minutes in this process.
KPI_TTL_SECONDS = 300.0
_KPI_CACHE_SIZE = 512
# Each entry: when computed, the figures, and the names (in every language) of the complaint
# reasons among them, so a cached board renders without a query of its own.
_KPI_CACHE: dict[tuple[Any, ...], tuple[float, schemas.Kpis, ReasonNames]] = {}


def _choice(value: str | None, allowed: tuple[str, ...]) -> str | None:
    return value if value in allowed else None


def _cursor(value: str | None) -> str | None:
    if not value or len(value) > _CURSOR_MAX:
        return None
    try:
        decode_cursor(value)
    except ValidationFailed:
        return None
    return value


class BoardQuery(msgspec.Struct, frozen=True):
    """The board's GET form; values that are not valid choices mean "any"."""

    territory: uuid.UUID | None = None
    type: str | None = None
    priority: str | None = None
    bucket: str | None = None
    technician: uuid.UUID | None = None
    cursor: str | None = None

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> BoardQuery:
        """Read the query string leniently: a link edited by hand still shows a board."""
        return cls(
            territory=uuid_or_none(params.get("territory")),
            type=_choice(params.get("type"), WORK_TYPES),
            priority=_choice(params.get("priority"), PRIORITIES),
            bucket=_choice(params.get("bucket"), schemas.BUCKETS),
            technician=uuid_or_none(params.get("technician")),
            cursor=_cursor(params.get("cursor")),
        )

    def filters(self) -> BoardFilters:
        """The same filters the JSON API builds."""
        return BoardFilters(
            territory_id=self.territory,
            type=self.type,
            technician_id=self.technician,
            priority=self.priority,
            buckets=(self.bucket,) if self.bucket else (),  # type: ignore[arg-type]
        )

    def params(self, **changes: Any) -> dict[str, str]:
        """Non-empty parameters, with some changed (None drops one)."""
        values = {f: getattr(self, f) for f in self.__struct_fields__} | changes
        return {k: str(v) for k, v in values.items() if v is not None}

    def url(self, **changes: Any) -> str:
        """A board URL with these filters."""
        query = urlencode(self.params(**changes))
        return f"/board?{query}" if query else "/board"


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _offset(value: datetime) -> str:
    offset = value.utcoffset()
    minutes = int(offset.total_seconds()) // 60 if offset else 0
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


class BoardClock:
    """Times for the board: each in its territory's zone, naming the zone when there are several."""

    def __init__(
        self, zones: Mapping[uuid.UUID, ZoneInfo], language: BoardLanguage, *, several: bool
    ) -> None:
        self.zones = zones
        self.language = language
        self.several = several

    def zone(self, territory_id: uuid.UUID) -> ZoneInfo:
        """The territory's zone (UTC for a territory the caller cannot see)."""
        return self.zones.get(territory_id, ZoneInfo("UTC"))

    def short(self, value: datetime, territory_id: uuid.UUID) -> str:
        """Date and time on the territory's clock; its UTC offset too on a many-zone board."""
        local = value.astimezone(self.zone(territory_id))
        shown = format_short(local, self.language)
        return f"{shown} {_offset(local)}" if self.several else shown


class BoardPageService:
    """Gathers the board for one caller.

    The counts per bucket and the KPIs tolerate a little lag and come from the standby when
    one may answer (``service.db.standby``); the rows, incidents and escalations, which a
    coordinator acts on, always from the primary.
    """

    def __init__(
        self, session: AsyncSession, actor: Actor, standby: StandbyReads = PRIMARY_ONLY
    ) -> None:
        self.session = session
        self.actor = actor
        self.standby = standby

    async def context(
        self,
        query: BoardQuery,
        language: BoardLanguage,
        *,
        now: datetime | None = None,
        ack_error: tuple[uuid.UUID, str, str] | None = None,
        incident_error: tuple[uuid.UUID, str, str] | None = None,
        notice: str | None = None,
    ) -> dict[str, Any]:
        """Everything the template shows, already in the caller's language.

        ``ack_error`` is (escalation id, error text key, the comment typed) of a refused
        acknowledgement, shown next to its form; ``incident_error`` the same for an incident.
        Every time is in its territory's zone; the zone is named once when the board shows a
        single zone, and next to each time when it spans several.
        """
        now = now or utcnow()
        territories = await self._territories()
        zones = {t.id: _zone(t.time_zone) for t in territories}
        filters = query.filters()
        counted = await self.standby.read(
            self.session, lambda session: OverdueBoard(session, self.actor).counts(filters, now)
        )
        page = await OverdueBoard(self.session, self.actor).page(
            filters, query.cursor, PAGE_SIZE, now, counts=counted.value
        )
        display_zone = self._display_zone(query, territories)
        kpis, reason_names = await self._kpis(query, now.astimezone(display_zone))
        escalations = await EscalationService(self.session, self.actor).pending(
            territory_id=query.territory, limit=ESCALATION_LIMIT
        )
        incidents = await IncidentService(self.session, self.actor).for_board(
            query.territory, INCIDENT_LIMIT, INCIDENT_RECENT
        )
        # Territories by name (their codes are the operator's shorthand, not the coordinators').
        names = {t.id: t.name for t in territories}
        clock = BoardClock(zones, language, several=self._several_zones(query, territories))
        local_now = now.astimezone(display_zone)
        as_of = format_datetime(local_now, language)
        counts_as_of = format_datetime(counted.as_of.astimezone(display_zone), language)

        def zoned(value: datetime) -> str:
            # The "as of" times carry the header's offset; the zone's name stays once, in the
            # header (a one-zone board names it there only).
            local = value.astimezone(display_zone)
            return f"{format_datetime(local, language)} ({_offset(local)})"

        return {
            "lang": language,
            "t": all_texts(language),
            "languages": [
                {
                    "code": c,
                    "name": LANGUAGE_NAMES[c],
                    "url": query.url(lang=c),
                    "current": c == language,
                }
                for c in LANGUAGES
            ],
            "user_name": await self._user_name(),
            "as_of": as_of,
            "as_of_offset": _offset(local_now)
            if clock.several
            else f"{_offset(local_now)}, {display_zone.key}",
            # The zone is named once, in the header; a board over several zones names it at
            # every time instead.
            "zone_note": text("zone_many" if clock.several else "local_time_note", language),
            "notice": text(notice, language) if notice else None,
            "query": query.params(cursor=None),
            "self_url": query.url(),
            "fragment_url": "/board/fragment?" + urlencode(query.params()),
            "counts": self._counts(page.counts, query, language),
            "total": page.counts.total,
            # Said only when the standby's counts are older than the page's minute.
            "counts_as_of": text("counts_as_of", language, time=zoned(counted.as_of))
            if counts_as_of != as_of
            else None,
            "kpi_title": text(
                "kpis_title", language, month=format_month(now.astimezone(display_zone), language)
            ),
            "kpis": self._kpi_tiles(kpis, language),
            # The KPIs may be a few minutes old (reused, or read on the standby): say so.
            "kpis_as_of": text(
                "figures_as_of",
                language,
                time=zoned(kpis.data_as_of),
            ),
            "appeal_kpis": self._appeal_figures(kpis.appeals, language, reason_names),
            # The analysis lives in the appeals workspace; dispatchers read the board only.
            "analysis_url": (
                "/coordinate/appeals/analysis"
                + (f"?territory={query.territory}" if query.territory else "")
            )
            if self.actor.role in WORKER_ROLES
            else None,
            "filters": self._filters(query, territories, await self._technicians(query), language),
            "reset_url": "/board",
            "rows": [self._row(item, names, clock) for item in page.items],
            "next_url": query.url(cursor=page.next_cursor) if page.next_cursor else None,
            "first_url": query.url(cursor=None) if query.cursor else None,
            "escalations": [
                self._escalation(
                    e, names, clock, ack_error, mine=may_acknowledge(self.actor, e.recipient_role)
                )
                for e in escalations
            ],
            "incidents": [self._incident(i, names, clock, incident_error) for i in incidents],
            "incidents_pending": sum(1 for i in incidents if i.acknowledged_at is None),
            "calendar_notice": await self._calendar_notice(local_now.year + 1, language),
        }

    async def _calendar_notice(self, year: int, language: BoardLanguage) -> str | None:
        """For those who can fix it, a warning when calendars lack the coming year's holidays."""
        if self.actor.role not in (Role.ADMIN, Role.SUPERVISOR):
            return None
        missing = await calendars_without_year(self.session, year)
        if not missing:
            return None
        return text("calendar_year_missing", language, year=year, codes=", ".join(missing))

    @staticmethod
    def _several_zones(query: BoardQuery, territories: list[Territory]) -> bool:
        """Whether the board shows times of more than one zone (each then names its own)."""
        if query.territory is not None:
            return False
        return len({_zone(t.time_zone).key for t in territories}) > 1

    async def _territories(self) -> list[Territory]:
        rows = await self.session.scalars(
            select(Territory)
            .where(territory_condition(self.actor, Territory.id))
            .order_by(Territory.name, Territory.code)
            .limit(OPTION_LIMIT)
        )
        return list(rows)

    async def _technicians(self, query: BoardQuery) -> list[tuple[uuid.UUID, str]]:
        """Active technicians of the filtered territory, else of the caller's territories."""
        stmt = select(Technician.id, Technician.full_name).where(Technician.active.is_(True))
        column = technician_territories.c.territory_id
        if query.territory is not None:
            stmt = stmt.where(
                exists().where(
                    technician_territories.c.technician_id == Technician.id,
                    column == query.territory,
                    territory_condition(self.actor, column),
                )
            )
        elif not self.actor.is_admin:
            stmt = stmt.where(
                exists().where(
                    technician_territories.c.technician_id == Technician.id,
                    territory_condition(self.actor, column),
                )
            )
        rows = await self.session.execute(
            stmt.order_by(Technician.full_name, Technician.id).limit(OPTION_LIMIT)
        )
        return [(row.id, row.full_name) for row in rows]

    async def _user_name(self) -> str:
        name = await self.session.scalar(
            select(User.full_name).where(User.id == self.actor.user_id)
        )
        return name or ""

    def _display_zone(self, query: BoardQuery, territories: list[Territory]) -> ZoneInfo:
        """The filtered territory's zone, else the zone most of the caller's territories use."""
        if query.territory is not None:
            for territory in territories:
                if territory.id == query.territory:
                    return _zone(territory.time_zone)
        common = Counter(t.time_zone for t in territories).most_common(1)
        return _zone(common[0][0] if common else None)

    async def _kpis(
        self, query: BoardQuery, local_now: datetime
    ) -> tuple[schemas.Kpis, ReasonNames]:
        """The current calendar month in the board's time zone, with its top complaint reasons'
        names (reused for a few minutes)."""
        month_start = local_now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        if month_start.month == 12:
            next_month = month_start.replace(year=month_start.year + 1, month=1)
        else:
            next_month = month_start.replace(month=month_start.month + 1)
        key = (
            self.actor.is_admin,
            self.actor.territory_ids,
            query.territory,
            query.technician,
            month_start,
        )
        cached = _KPI_CACHE.get(key)
        if cached is not None and time.monotonic() - cached[0] < KPI_TTL_SECONDS:
            return cached[1], cached[2]
        start, end = kpi_period(month_start, next_month, utcnow())
        kpis = await KpiService(self.session, self.actor, self.standby).compute(
            KpiQuery(
                start=start, end=end, territory_id=query.territory, technician_id=query.technician
            )
        )
        if len(_KPI_CACHE) >= _KPI_CACHE_SIZE:
            _KPI_CACHE.clear()
        names = await self._reason_names([r.code for r in kpis.appeals.top_reasons])
        _KPI_CACHE[key] = (time.monotonic(), kpis, names)
        return kpis, names

    async def _reason_names(self, codes: list[str]) -> ReasonNames:
        """These complaint reasons' names by code, in every language (retired ones too)."""
        if not codes:
            return {}
        rows = await self.session.execute(
            select(AppealReason.code, AppealReason.names).where(AppealReason.code.in_(codes))
        )
        return {row.code: row.names for row in rows}

    @staticmethod
    def _appeal_figures(
        figures: AppealKpi, language: BoardLanguage, reasons: ReasonNames
    ) -> dict[str, Any]:
        """The appeals family: four tiles and the top complaint reasons."""

        def tile(code: str, value: str, base: str, alert: bool = False) -> dict[str, Any]:
            return {
                "code": code,
                "label": text(f"kpi.{code}", language),
                "value": value,
                "base": base,
                "alert": alert,
            }

        complaints = figures.complaints
        return {
            "tiles": [
                tile(
                    "appeals",
                    str(figures.registered),
                    text("kpi.appeals_base", language, part=complaints),
                ),
                tile(
                    "appeals_on_time",
                    format_share(figures.on_time_share, language),
                    text(
                        "kpi.appeals_on_time_base",
                        language,
                        part=figures.answered_on_time,
                        whole=figures.due,
                    )
                    if figures.due
                    else text("kpi.appeals_none_due", language),
                ),
                tile(
                    "appeals_overdue",
                    str(figures.overdue_open),
                    text("kpi.appeals_overdue_base", language),
                    alert=figures.overdue_open > 0,
                ),
                tile(
                    "appeals_repeat",
                    str(figures.repeat_complaints),
                    text("kpi.appeals_repeat_base", language, whole=complaints)
                    if complaints
                    else text("no_data", language),
                ),
            ],
            "reasons": [
                {
                    "name": reasons.get(r.code, {}).get(language) or r.code,
                    "n": r.complaints,
                    "share": format_share(r.share, language),
                }
                for r in figures.top_reasons
            ],
        }

    @staticmethod
    def _counts(
        counts: schemas.BucketCounts, query: BoardQuery, language: BoardLanguage
    ) -> list[dict[str, Any]]:
        return [
            {
                "code": bucket,
                "label": text(f"bucket.{bucket}", language),
                "n": getattr(counts, bucket),
                "url": query.url(bucket=bucket, cursor=None),
                "active": query.bucket == bucket,
            }
            for bucket in schemas.BUCKETS
        ]

    @staticmethod
    def _kpi_tiles(kpis: schemas.Kpis, language: BoardLanguage) -> list[dict[str, Any]]:
        resolution = next(d for d in kpis.deadlines.targets if d.target == "resolution")
        ratings = kpis.ratings

        def tile(code: str, value: str, part: int | None, whole: int) -> dict[str, Any]:
            base = (
                text(f"kpi.{code}_base", language, part=part, whole=whole)
                if whole
                else text("no_data", language)
            )
            return {
                "code": code,
                "label": text(f"kpi.{code}", language),
                "value": value,
                "base": base,
            }

        return [
            tile(
                "on_time",
                format_share(kpis.arrival.on_time_share, language),
                kpis.arrival.on_time,
                kpis.arrival.arrivals,
            ),
            tile(
                "first_visit",
                format_share(kpis.resolution.first_visit_resolution, language),
                kpis.resolution.first_visit,
                kpis.resolution.completed_orders,
            ),
            tile(
                "no_access",
                format_share(kpis.outcomes.no_access_rate, language),
                kpis.outcomes.no_access,
                kpis.outcomes.ended,
            ),
            tile(
                "deadlines",
                format_share(resolution.compliance, language),
                resolution.met,
                resolution.met + resolution.breached,
            ),
            tile(
                "rating",
                format_number(ratings.average, language, 2) if ratings.average else "—",
                None,
                ratings.count,
            ),
            tile(
                "overdue",
                format_share(kpis.overdue.overdue_share, language),
                kpis.overdue.overdue,
                kpis.overdue.open_orders,
            ),
        ]

    @staticmethod
    def _filters(
        query: BoardQuery,
        territories: list[Territory],
        technicians: list[tuple[uuid.UUID, str]],
        language: BoardLanguage,
    ) -> list[dict[str, Any]]:
        def options(pairs: list[tuple[str, str]], current: object) -> list[dict[str, Any]]:
            chosen = "" if current is None else str(current)
            return [{"value": v, "label": lab, "selected": v == chosen} for v, lab in pairs]

        return [
            {
                "name": "territory",
                "label": text("territory", language),
                "options": options([(str(t.id), t.name) for t in territories], query.territory),
            },
            {
                "name": "type",
                "label": text("type", language),
                "options": options(
                    [(c, text(f"type.{c}", language)) for c in WORK_TYPES], query.type
                ),
            },
            {
                "name": "priority",
                "label": text("priority", language),
                "options": options(
                    [(c, text(f"priority.{c}", language)) for c in PRIORITIES], query.priority
                ),
            },
            {
                "name": "bucket",
                "label": text("bucket", language),
                "options": options(
                    [(c, text(f"bucket.{c}", language)) for c in schemas.BUCKETS], query.bucket
                ),
            },
            {
                "name": "technician",
                "label": text("technician", language),
                "options": options([(str(i), name) for i, name in technicians], query.technician),
            },
        ]

    @staticmethod
    def _row(
        item: schemas.OverdueItem, names: Mapping[uuid.UUID, str], clock: BoardClock
    ) -> dict[str, Any]:
        language = clock.language
        zone = clock.zone(item.territory_id)
        deadline = item.control_deadline.astimezone(zone)
        span = format_span(item.overdue_minutes, language)
        last = item.last_event
        return {
            "id": str(item.work_order_id),
            "number": item.number,
            "territory": names.get(item.territory_id, ""),
            "type": text(f"type.{item.type}", language),
            "priority": text(f"priority.{item.priority}", language),
            "priority_code": item.priority,
            "bucket": item.bucket,
            "bucket_label": text(f"bucket.{item.bucket}", language),
            "deadline": clock.short(item.control_deadline, item.territory_id),
            "deadline_full": (
                f"{format_datetime(deadline, language)} ({_offset(deadline)}, {zone.key})"
            ),
            "deadline_iso": item.control_deadline.astimezone(UTC).isoformat(),
            "lateness": text(
                "overdue_by" if item.overdue_minutes >= 0 else "due_in", language, span=span
            ),
            "reason": text(f"reason.{item.reason}", language),
            "reason_detail": item.reason_detail,
            "last_event": text(f"event.{last.kind}", language) if last else None,
            "last_event_at": clock.short(last.at, item.territory_id) if last else None,
            "owner": item.owner.full_name if item.owner else None,
            "technician": item.technician.full_name if item.technician else None,
            "contacts": item.customer_contacts,
        }

    @staticmethod
    def _escalation(
        escalation: escalation_schemas.Escalation,
        names: Mapping[uuid.UUID, str],
        clock: BoardClock,
        ack_error: tuple[uuid.UUID, str, str] | None,
        *,
        mine: bool,
    ) -> dict[str, Any]:
        """An escalation card; only the role it is addressed to is offered the acknowledge form."""
        language = clock.language
        territory = escalation.territory_id
        failed = ack_error is not None and ack_error[0] == escalation.id
        new_date = escalation.customer_new_date
        recipient = text(f"role.{escalation.recipient_role}", language)
        theirs = text("ack_theirs", language, role=recipient)
        return {
            "id": str(escalation.id),
            "number": escalation.work_order_number,
            "territory": names.get(escalation.territory_id, ""),
            "level": escalation.level,
            "level_label": text(f"level.{escalation.level}", language),
            "target": text(f"target.{escalation.target}", language),
            "recipient": recipient,
            "mine": mine,
            # Kazakh puts the role first: the sentence still starts with a capital.
            "theirs": None if mine else theirs[:1].upper() + theirs[1:],
            "due": clock.short(escalation.due_at, territory),
            "raised": clock.short(escalation.created_at, territory),
            "new_date": clock.short(new_date, territory) if new_date else None,
            "error": text(ack_error[1], language) if failed and ack_error else None,
            "comment": ack_error[2] if failed and ack_error else "",
        }

    @staticmethod
    def _incident(
        incident: Incident,
        names: Mapping[uuid.UUID, str],
        clock: BoardClock,
        error: tuple[uuid.UUID, str, str] | None,
    ) -> dict[str, Any]:
        language = clock.language
        territory = incident.territory_id
        failed = error is not None and error[0] == incident.id
        acknowledged = incident.acknowledged_at
        return {
            "id": str(incident.id),
            "number": incident.work_order_number,
            "territory": names.get(territory, ""),
            "kind": text(f"incident.{incident.kind}", language),
            "pending": acknowledged is None,
            "at": clock.short(incident.occurred_at, territory),
            "technician": incident.technician_name or "—",
            "reason": incident.reason,
            "told": text(f"told.{incident.notified_role}", language),
            "acknowledged": (
                f"{clock.short(acknowledged, territory)} · {incident.acknowledged_by_name or '—'}"
                if acknowledged
                else None
            ),
            "ack_comment": incident.ack_comment,
            "error": text(error[1], language) if failed and error else None,
            "comment": error[2] if failed and error else "",
        }
