"""`naryad demo seed`: realistic demo data, idempotent, only ever created by this command."""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import exists, select, text
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.ext.asyncio import AsyncSession

from checklists import UnknownTemplate
from checklists.schema import step_kind
from service.audit.services import record
from service.auth.passwords import hash_password
from service.db.engine import make_engine, make_sessionmaker
from service.db.models import (
    ChecklistAnswer,
    Customer,
    Shift,
    Site,
    Technician,
    Territory,
    User,
    Visit,
    VisitChecklist,
    WorkOrder,
)
from service.demo.appeals import seed_appeals
from service.demo.data import (
    EQUIPMENT,
    KAZAKH_FEMALE,
    KAZAKH_MALE,
    KAZAKH_SURNAMES,
    RUSSIAN_FEMALE,
    RUSSIAN_MALE,
    RUSSIAN_SURNAMES,
    SERVICES,
    SKILL_SETS,
    TERRITORIES,
)
from service.settings import Settings
from service.visit_checklists.registry import TemplateRegistry

DEMO_PASSWORD = "demo-password"  # noqa: S105 - documented demo credential
STAFF = [
    ("admin", "admin", "Администратор системы"),
    ("dispatcher", "dispatcher", "Айгерим Сейткали"),
    ("coordinator", "coordinator", "Ольга Ким"),
    ("supervisor", "supervisor", "Тимур Абенов"),
]
# One dispatcher per territory (username, role, name, territory code): each sees only its own
# territory's orders at /dispatch, while ``dispatcher`` above covers all three.
TERRITORY_DISPATCHERS = [
    ("dispatcher-ala", "dispatcher", "Жанна Омарова", "ALA"),
    ("dispatcher-nqz", "dispatcher", "Ерлан Касымов", "NQZ"),
    ("dispatcher-bax", "dispatcher", "Анна Соколова", "BAX"),
]
TECHNICIANS_PER_TERRITORY = (8, 6, 6)
CUSTOMERS = 200
WORK_ORDERS = 300
STATUS_MIX = (
    ["new"] * 40
    + ["scheduled"] * 70
    + ["in_progress"] * 20
    + ["completed"] * 60
    + ["closed"] * 60
    + ["cancelled"] * 20
    + ["on_hold"] * 30
)


def _polygon_ewkt(outline: list[tuple[float, float]]) -> str:
    ring = ", ".join(f"{lon} {lat}" for lon, lat in outline)
    return f"SRID=4326;MULTIPOLYGON((({ring})))"


def _inside(outline: list[tuple[float, float]], lon: float, lat: float) -> bool:
    """Ray casting; the outlines are simple polygons."""
    inside = False
    for (x1, y1), (x2, y2) in itertools.pairwise(outline):
        if (y1 > lat) != (y2 > lat) and lon < (x2 - x1) * (lat - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def _random_point(rng: random.Random, outline: list[tuple[float, float]]) -> tuple[float, float]:
    lons = [p[0] for p in outline]
    lats = [p[1] for p in outline]
    while True:
        lon = rng.uniform(min(lons), max(lons))
        lat = rng.uniform(min(lats), max(lats))
        if _inside(outline, lon, lat):
            return round(lon, 6), round(lat, 6)


def _week(technician_id: uuid.UUID, *, weekend: bool) -> list[Shift]:
    """Monday to Friday 09:00-18:00; some technicians also take Saturday repairs (seed 002)."""
    shifts = [
        Shift(technician_id=technician_id, weekday=d, starts=time(9), ends=time(18))
        for d in range(5)
    ]
    if weekend:
        shifts.append(Shift(technician_id=technician_id, weekday=5, starts=time(10), ends=time(16)))
    return shifts


def _person(rng: random.Random, kazakh: bool) -> str:
    female = rng.random() < 0.5
    if kazakh:
        first = rng.choice(KAZAKH_FEMALE if female else KAZAKH_MALE)
        surname = rng.choice(KAZAKH_SURNAMES)
    else:
        first = rng.choice(RUSSIAN_FEMALE if female else RUSSIAN_MALE)
        surname = rng.choice(RUSSIAN_SURNAMES)
    return f"{surname}{'а' if female else ''} {first}"


def _phone(rng: random.Random, code: str) -> str:
    prefix = "+7913" if code == "BAX" else rng.choice(["+7701", "+7702", "+7705", "+7747"])
    return prefix + f"{rng.randrange(10**7):07d}"


async def run_seed(settings: Settings, *, only_if_empty: bool = False) -> str:
    """Create the demo data unless it (or, with only_if_empty, any data) is already there."""
    engine = make_engine(settings.database)
    try:
        async with make_sessionmaker(engine)() as session:
            if await session.scalar(select(exists().where(User.username == "admin"))):
                # A demo database from before the appeals gets them (once: none are added
                # where any appeal exists), so seeding again never changes the data.
                added = await seed_appeals(session, settings)
                await session.commit()
                return "demo data already present" + (f"; {added} appeals added" if added else "")
            if only_if_empty and await session.scalar(select(exists().where(User.id.is_not(None)))):
                return "database not empty; demo data not created"
            summary = await seed(session)
            # Appeals through their services, which read the orders just written.
            await session.flush()
            appeals = await seed_appeals(session, settings)
            await session.commit()
            return f"{summary}, {appeals} appeals"
    finally:
        await engine.dispose()


async def seed(session: AsyncSession, rng_seed: int = 20261122) -> str:
    """Insert the demo data in the session's transaction."""
    rng = random.Random(rng_seed)  # noqa: S311 - reproducible demo data, not secrets
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    password_hash = hash_password(DEMO_PASSWORD)

    territories = [
        Territory(
            code=t.code,
            name=t.name,
            time_zone=t.time_zone,
            area=_polygon_ewkt(t.outline),
        )
        for t in TERRITORIES
    ]
    session.add_all(territories)
    await session.flush()

    for username, role, name in STAFF:
        user = User(username=username, password_hash=password_hash, role=role, full_name=name)
        user.territories = [] if role == "admin" else list(territories)
        session.add(user)
    by_code = {t.code: t for t in territories}
    for username, role, name, code in TERRITORY_DISPATCHERS:
        user = User(username=username, password_hash=password_hash, role=role, full_name=name)
        user.territories = [by_code[code]]
        session.add(user)

    technicians: dict[str, list[Technician]] = {t.code: [] for t in territories}
    number = 0
    for territory, spec, count in zip(
        territories, TERRITORIES, TECHNICIANS_PER_TERRITORY, strict=True
    ):
        for _ in range(count):
            number += 1
            name = _person(rng, kazakh=spec.code != "BAX")
            user = User(
                username=f"tech{number}",
                password_hash=password_hash,
                role="technician",
                full_name=name,
            )
            session.add(user)
            await session.flush()
            lon, lat = _random_point(rng, spec.outline)
            technician = Technician(
                user_id=user.id,
                full_name=name,
                # tech7 carries personnel number 000007: easy to find on an act.
                personnel_no=f"{number:06d}",
                phone=_phone(rng, spec.code),
                employment=rng.choice(["staff", "staff", "staff", "dealer", "partner"]),
                skills=sorted(SKILL_SETS[number % len(SKILL_SETS)]),
                home_base=f"SRID=4326;POINT({lon} {lat})",
                territories=[territory],
                time_zone=territory.time_zone,
                daily_capacity=6,
            )
            session.add(technician)
            technicians[territory.code].append(technician)
            await session.flush()
            session.add_all(_week(technician.id, weekend=number % 3 == 0))
    await session.flush()

    sites: list[tuple[Site, Customer, Territory]] = []
    # Where each site is (lon, lat): an arrival on site is recorded there.
    points: list[tuple[float, float]] = []
    for index in range(CUSTOMERS):
        territory_index = index % len(territories)
        territory, spec = territories[territory_index], TERRITORIES[territory_index]
        kazakh = spec.code != "BAX" and rng.random() < 0.6
        customer = Customer(
            territory_id=territory.id,
            full_name=_person(rng, kazakh),
            phones=[_phone(rng, spec.code)],
            preferred_language="kk" if kazakh and rng.random() < 0.7 else "ru",
            segment="b2b" if rng.random() < 0.1 else "b2c",
            accessibility_needs=["low_vision"] if rng.random() < 0.05 else [],
        )
        session.add(customer)
        await session.flush()
        lon, lat = _random_point(rng, spec.outline)
        site = Site(
            customer_id=customer.id,
            territory_id=territory.id,
            address=f"{spec.city}, {rng.choice(spec.streets)}, д. {rng.randint(1, 180)}, "
            f"кв. {rng.randint(1, 240)}",
            location=f"SRID=4326;POINT({lon} {lat})",
            access_notes=rng.choice(
                [None, None, "Домофон не работает, звонить", "Код подъезда 45К"]
            ),
        )
        session.add(site)
        sites.append((site, customer, territory))
        points.append((lon, lat))
    await session.flush()
    positions = {site.id: point for (site, _, _), point in zip(sites, points, strict=True)}

    sequence_start = await session.scalar(
        text("SELECT setval('work_order_number_seq', nextval('work_order_number_seq') + :n)"),
        {"n": WORK_ORDERS},
    )
    busy: set[tuple[uuid.UUID, datetime]] = set()
    on_site: list[tuple[Visit, WorkOrder, tuple[float, float]]] = []
    statuses = STATUS_MIX[:]
    rng.shuffle(statuses)
    for index, status in enumerate(statuses):
        site, customer, territory = sites[rng.randrange(len(sites))]
        work_type = rng.choice(["installation", "repair", "repair", "construction", "meter_check"])
        created = now - timedelta(days=rng.uniform(0.5, 30))
        if status in ("new", "scheduled", "in_progress", "on_hold"):
            created = now - timedelta(days=rng.uniform(0.2, 6))
        deadline = created + timedelta(days=rng.choice([1, 2, 3, 5]))
        equipment = [
            {
                "name": name,
                "model": model,
                # Installed devices carry serial numbers; cable and consumables do not.
                "serial": f"4857{rng.randrange(16**8):08X}"
                if unit == "шт" and work_type == "installation"
                else None,
                "quantity": quantity,
                "unit": unit,
            }
            for name, model, quantity, unit in EQUIPMENT[work_type]
        ]
        order = WorkOrder(
            number=f"WO-{created.year}-{sequence_start - WORK_ORDERS + index + 1:06d}",
            type=work_type,
            priority=rng.choice(["low", "normal", "normal", "normal", "high", "urgent"]),
            status=status,
            description=rng.choice(SERVICES[work_type]),
            requested_services=rng.sample(SERVICES[work_type], k=rng.randint(1, 2)),
            required_skills=[work_type],
            equipment=equipment,
            contact_phones=list(customer.phones),
            customer_id=customer.id,
            site_id=site.id,
            territory_id=territory.id,
            control_deadline=deadline,
            cancel_reason="Клиент отказался от услуги" if status == "cancelled" else None,
            hold_reason="Ожидание оборудования" if status == "on_hold" else None,
            created_at=created,
            updated_at=created,
        )
        session.add(order)
        await session.flush()
        visit = _demo_visit(rng, order, technicians[territory.code], now, busy)
        if visit is not None:
            session.add(visit)
            if visit.status == "on_site":
                on_site.append((visit, order, positions[site.id]))
    await session.flush()
    registry = TemplateRegistry()
    by_technician = {t.id: t.user_id for group in technicians.values() for t in group}
    for visit, order, position in on_site:
        await answers_so_far(session, registry, visit, order, position, by_technician)
    await record(
        session,
        None,
        "demo.seeded",
        "system",
        "demo",
        after={"territories": len(territories), "work_orders": WORK_ORDERS},
    )
    return (
        f"demo data created: {len(territories)} territories, {sum(TECHNICIANS_PER_TERRITORY)} "
        f"technicians, {CUSTOMERS} customers, {WORK_ORDERS} work orders"
    )


def _demo_visit(
    rng: random.Random,
    order: WorkOrder,
    candidates: list[Technician],
    now: datetime,
    busy: set[tuple[uuid.UUID, datetime]],
) -> Visit | None:
    """A visit fitting the order's status, in a free two-hour slot of a technician."""
    visit_status: dict[str, Any] = {
        "scheduled": ("planned", (1, 6)),
        "in_progress": ("on_site", (0, 0)),
        "completed": ("completed", (-10, -1)),
        "closed": ("completed", (-25, -3)),
        "cancelled": ("cancelled", (1, 4)),
    }
    if order.status not in visit_status:
        return None
    status, (first_day, last_day) = visit_status[order.status]
    qualified = [t for t in candidates if order.type in t.skills] or candidates
    for _ in range(200):
        technician = rng.choice(qualified)
        day = now.replace(hour=3) + timedelta(days=rng.randint(first_day, last_day))
        start = (
            now - timedelta(hours=1)
            if status == "on_site"
            else day + timedelta(hours=2 * rng.randint(0, 4))
        )
        if (technician.id, start) in busy or any(
            (technician.id, start + timedelta(hours=h)) in busy for h in (-1, 1)
        ):
            continue
        busy.add((technician.id, start))
        return Visit(
            work_order_id=order.id,
            technician_id=technician.id,
            agreed_window=Range(start, start + timedelta(hours=2), bounds="[)"),
            status=status,
            # A visit on site has arrived: its act prints when (never the window's start).
            arrived_at=start + timedelta(minutes=10) if status == "on_site" else None,
        )
    return None


async def answers_so_far(
    session: AsyncSession,
    registry: TemplateRegistry,
    visit: Visit,
    order: WorkOrder,
    position: tuple[float, float],
    technicians: dict[uuid.UUID, uuid.UUID],
) -> None:
    """What a visit on site has recorded by now: the checks before departure, then the arrival.

    Without them the technician's app shows a technician standing at the door "Before departure
    0 of 6". Nothing is recorded when no checklist is published (the seed then stands alone).
    """
    try:
        pin = await registry.latest_pin(session, order.type)
    except UnknownTemplate:
        return
    template = await registry.resolve(session, pin)
    assert visit.arrived_at is not None
    assert visit.technician_id is not None
    session.add(
        VisitChecklist(
            visit_id=visit.id,
            template_key=pin.key,
            template_version=pin.version,
            content_hash=pin.content_hash,
            pinned_at=visit.arrived_at - timedelta(minutes=45),
        )
    )
    recorded_by = technicians[visit.technician_id]
    before = [p.steps for p in template.template.phases if p.id == "before_departure"]
    for minute, step in enumerate(itertools.chain.from_iterable(before)):
        if step_kind(step) not in ("confirm", "yes_no"):
            continue
        at = visit.arrived_at - timedelta(minutes=40 - minute)
        session.add(
            ChecklistAnswer(
                visit_id=visit.id,
                step_id=step.id,
                value=True,
                answered_at=at,
                received_at=at,
                recorded_by=recorded_by,
            )
        )
    lon, lat = position
    if "geo_arrival" in template.steps:
        session.add(
            ChecklistAnswer(
                visit_id=visit.id,
                step_id="geo_arrival",
                value=None,
                answered_at=visit.arrived_at,
                received_at=visit.arrived_at,
                location=f"SRID=4326;POINT({lon!r} {lat!r})",
                accuracy_m=8.0,
                recorded_by=recorded_by,
            )
        )
    await session.flush()
