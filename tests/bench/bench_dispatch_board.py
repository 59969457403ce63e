"""The dispatch schedule board for 20 technicians and 120 visits, against /health.

One territory, 20 technicians working 09:00-18:00, six one-hour visits each today. A dispatcher
signs in through the staff form (the page is served on the cookie session, as in a browser);
the board page, its live fragment (a fresh render) and the fragment's usual 304 answer are each
measured with wrk in interleaved rounds against /health on the same server (tests/bench/support.py).
"""

from __future__ import annotations

import asyncio
import re
import statistics
import time as clock
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from service.auth.passwords import hash_password
from service.db.engine import make_sessionmaker
from service.db.models import Customer, Shift, Site, Technician, Territory, User, Visit, WorkOrder
from tests.bench.support import (
    bench_database_url,
    compare,
    live_server,
    migrate,
    ratios,
    recreate_database,
    spread,
    wrk_rate,
)

TECHNICIANS = 20
VISITS_EACH = 6
ZONE = ZoneInfo("Asia/Almaty")
PASSWORD = "bench-password"
_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def _bench_url() -> str:
    url = make_url(bench_database_url())
    return url.set(database=f"{url.database}_dispatch").render_as_string(hide_password=False)


async def populate(url: str) -> str:
    """The territory's day; returns its code."""
    engine = create_async_engine(url)
    sessions = make_sessionmaker(engine)
    today = datetime.now(ZONE).date()
    try:
        async with sessions() as session:
            territory = Territory(
                code="BENCH",
                name="Bench territory",
                time_zone="Asia/Almaty",
                area="SRID=4326;MULTIPOLYGON(((76.8 43.1,77.1 43.1,77.1 43.4,76.8 43.4,76.8 43.1)))",  # noqa: E501
            )
            session.add(territory)
            dispatcher = User(
                username="bench-dispatcher",
                password_hash=hash_password(PASSWORD),
                role="dispatcher",
                full_name="Bench Dispatcher",
                territories=[territory],
            )
            session.add(dispatcher)
            await session.flush()
            customer = Customer(
                territory_id=territory.id, full_name="Bench Customer", phones=["+77010000000"]
            )
            session.add(customer)
            await session.flush()
            for t in range(TECHNICIANS):
                user = User(
                    username=f"bench-tech-{t}",
                    password_hash="!",
                    role="technician",
                    full_name=f"Technician {t:02d}",
                )
                session.add(user)
                await session.flush()
                lon, lat = 76.85 + 0.01 * t, 43.15 + 0.01 * t
                technician = Technician(
                    user_id=user.id,
                    full_name=f"Technician {t:02d}",
                    personnel_no=f"B{t:04d}",
                    phone="+77010000001",
                    skills=["repair"],
                    home_base=f"SRID=4326;POINT({lon} {lat})",
                    territories=[territory],
                )
                session.add(technician)
                await session.flush()
                for weekday in range(7):
                    session.add(
                        Shift(
                            technician_id=technician.id,
                            weekday=weekday,
                            starts=time(9),
                            ends=time(18),
                        )
                    )
                for v in range(VISITS_EACH):
                    site = Site(
                        customer_id=customer.id,
                        territory_id=territory.id,
                        address=f"Bench street {t}-{v}",
                        location=f"SRID=4326;POINT({lon + 0.005 * v} {lat + 0.003 * v})",
                    )
                    session.add(site)
                    await session.flush()
                    order = WorkOrder(
                        number=f"WO-BENCH-{t:02d}{v}",
                        type="repair",
                        status="scheduled",
                        description="",
                        requested_services=[],
                        required_skills=["repair"],
                        equipment=[],
                        contact_phones=["+77010000000"],
                        customer_id=customer.id,
                        site_id=site.id,
                        territory_id=territory.id,
                    )
                    session.add(order)
                    await session.flush()
                    # 09, 10, 12, 13, 15, 16 o'clock: travel fits between most of them.
                    start = datetime.combine(today, time(9 + v + v // 2), tzinfo=ZONE)
                    session.add(
                        Visit(
                            work_order_id=order.id,
                            technician_id=technician.id,
                            agreed_window=Range(
                                start.astimezone(UTC),
                                (start + timedelta(hours=1)).astimezone(UTC),
                                bounds="[)",
                            ),
                            status="planned",
                        )
                    )
            await session.commit()
            return territory.code
    finally:
        await engine.dispose()


def sign_in(base: str) -> dict[str, str]:
    """The staff cookie session of the bench dispatcher, as a Cookie header."""
    with httpx.Client(base_url=base, follow_redirects=False) as client:
        form = client.get("/staff/login")
        token = _TOKEN.search(form.text)
        assert token, form.text[:300]
        answer = client.post(
            "/staff/login",
            data={"username": "bench-dispatcher", "password": PASSWORD, "form_token": token[1]},
        )
        assert answer.status_code == 303, answer.text[:300]
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    return {"Cookie": cookie}


def main() -> None:
    """Print the figures."""
    started = clock.perf_counter()
    url = _bench_url()
    asyncio.run(recreate_database(url))
    migrate(url)
    code = asyncio.run(populate(url))
    print(
        f"populated {TECHNICIANS} technicians, {TECHNICIANS * VISITS_EACH} visits "
        f"in {clock.perf_counter() - started:.0f} s",
        flush=True,
    )
    page = f"/dispatch/schedule?territory={code}"
    fragment = f"/dispatch/schedule/fragment?territory={code}"
    with live_server(url) as base:
        headers = sign_in(base)
        body = httpx.get(base + page, headers=headers).text
        shown = body.count('class="visit ')
        assert shown == TECHNICIANS * VISITS_EACH, f"{shown} visit blocks on the page"
        figures = {
            "board page": asyncio.run(compare(base, page, "/health", headers)),
            "live fragment (render)": asyncio.run(compare(base, fragment, "/health", headers)),
        }
        # The poll of an unchanged board: 304 from the version query alone. The version turns
        # with each minute (predicted arrivals move), so every round asks for a fresh ETag.
        figures["live fragment (304)"] = _unchanged_poll(base, fragment, headers)
    for name, (subject, bare, ratio) in figures.items():
        print(
            f"schedule {name}, {TECHNICIANS} technicians x {TECHNICIANS * VISITS_EACH} visits: "
            f"{subject:,.0f} req/s, /health {bare:,.0f} req/s, ratio {ratio:.3f}"
        )


def _unchanged_poll(
    base: str, fragment: str, headers: dict[str, str], rounds: int = 5
) -> tuple[float, float, float]:
    """wrk on /health and on the fragment with its current ETag, in interleaved rounds."""
    subjects, bares = [], []
    for _ in range(rounds):
        etag = httpx.get(base + fragment, headers=headers).headers["etag"]
        unchanged = {**headers, "If-None-Match": etag}
        assert httpx.get(base + fragment, headers=unchanged).status_code == 304
        bares.append(wrk_rate(base + "/health", headers))
        subjects.append(wrk_rate(base + fragment, unchanged))
    per_round = ratios(subjects, bares)
    print(f"  {fragment} (304) / /health: {spread(per_round, 3)}")
    return statistics.median(subjects), statistics.median(bares), statistics.median(per_round)


if __name__ == "__main__":
    main()
