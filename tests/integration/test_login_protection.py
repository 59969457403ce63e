"""Login protection shared by every process: per-surface address limits, per-account back-off."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from litestar.testing.transport import TestClientTransport as LitestarTransport
from sqlalchemy import func, select, update

from service.app import create_app
from service.auth.throttle import LoginThrottle
from service.common.actor import Role
from service.db.engine import make_engine
from service.db.models import LoginFailure, LoginRateWindow
from service.errors import TooManyRequests
from service.jobs import JOBS, JobRunner
from service.settings import Settings
from tests.conftest import problem, serve_app
from tests.integration.builders import PASSWORD, Builder

_FORM_TOKEN = 'name="form_token" value="'


class _PeerTransport(LitestarTransport):  # type: ignore[type-arg]
    """The test transport, with the peer address taken from an X-Test-Peer header."""

    def parse_request(self, request: httpx.Request) -> dict[str, Any]:
        peer = request.headers.pop("x-test-peer", "testclient")
        scope = super().parse_request(request)
        scope["client"] = (peer, 40_000)
        return scope


@asynccontextmanager
async def serving(settings: Settings, **auth: Any) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """Another app instance on the same database, with its own login-protection settings."""
    app = create_app(
        msgspec.structs.replace(settings, auth=msgspec.structs.replace(settings.auth, **auth))
    )
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        client._transport = _PeerTransport(client=client, raise_server_exceptions=False)
        yield client


class caller:  # noqa: N801 - reads as a function at the call sites
    """Requests to one app instance arriving from one address."""

    def __init__(self, client: AsyncTestClient[Litestar], address: str) -> None:
        self.client = client
        self.address = address

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, headers={"x-test-peer": self.address}, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.post(path, headers={"x-test-peer": self.address}, **kwargs)


def new_address() -> str:
    """An address no other test uses."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


async def clear_of_window_edge() -> None:
    """Wait for a new minute when this one is about to end (counts would restart mid-test)."""
    second = datetime.now(UTC).second
    if second >= 45:
        await asyncio.sleep(61 - second)


WRONG = "wrong-password"


async def login(client: caller, username: str, password: str = WRONG) -> Any:
    return await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )


def assert_too_many(response: Any, longest: int) -> int:
    """A 429 problem with a Retry-After of 1..longest seconds; returns the wait."""
    assert response.status_code == 429, response.text
    assert problem(response)["title"] == "Too many requests"
    wait = int(response.headers["retry-after"])
    assert 1 <= wait <= longest
    return wait


async def test_address_limits_are_counted_across_two_app_instances(settings: Settings) -> None:
    await clear_of_window_edge()
    address, nobody = new_address(), f"nobody-{uuid.uuid4().hex[:8]}"
    async with (
        serving(settings, login_rate_per_minute=3) as first,
        serving(settings, login_rate_per_minute=3) as second,
    ):
        one, two = caller(first, address), caller(second, address)
        codes = [
            (await login(one, nobody)).status_code,
            (await login(two, nobody)).status_code,
            (await login(one, nobody)).status_code,
        ]
        assert codes == [401, 401, 401]
        assert_too_many(await login(two, nobody), 60)
        assert_too_many(await login(one, f"{nobody}-else"), 60)
        # Other addresses and other endpoints are untouched.
        assert (await login(caller(second, new_address()), nobody)).status_code == 401
        assert (await one.get("/health")).status_code == 200


async def test_each_surface_has_its_own_bucket(settings: Settings) -> None:
    await clear_of_window_edge()
    nobody = f"nobody-{uuid.uuid4().hex[:8]}"
    async with serving(settings, login_rate_per_minute=2) as app:
        client = caller(app, new_address())
        otp = "/mobile/v1/sign/" + "x" * 40 + "/otp"
        sent = [(await client.post(otp)).status_code for _ in range(2)]
        assert 429 not in sent
        assert_too_many(await client.post(otp), 60)

        # The codes used up their own bucket: logins, refreshes and the board still answer.
        assert [(await login(client, nobody)).status_code for _ in range(2)] == [401, 401]
        refresh = {"refresh_token": "r" * 43}
        refreshed = [
            (await client.post("/api/v1/auth/refresh", json=refresh)).status_code for _ in range(2)
        ]
        assert refreshed == [401, 401]
        board = [
            (await client.post("/board/login", data={"username": "a", "password": "b"})).status_code
            for _ in range(2)
        ]
        assert 429 not in board
        assert_too_many(await login(client, nobody), 60)
        assert_too_many(await client.post("/api/v1/auth/refresh", json=refresh), 60)
        assert_too_many(
            await client.post("/board/login", data={"username": "a", "password": "b"}), 60
        )


# Waits long enough that a slow, shared machine cannot outlast them between two requests;
# time then passes by moving the last attempt back, not by sleeping.
BACK_OFF = {
    "login_free_failures": 2,
    "login_backoff_base_seconds": 30.0,
    "login_backoff_max_seconds": 120.0,
}


async def time_passes(build: Builder, username: str, seconds: float) -> None:
    """Make the account's last attempt ``seconds`` older."""
    async with build.sessionmaker() as session:
        await session.execute(
            update(LoginFailure)
            .where(LoginFailure.account == username.lower())
            .values(last_attempt_at=LoginFailure.last_attempt_at - timedelta(seconds=seconds))
        )
        await session.commit()


def assert_waits(response: Any, seconds: int) -> None:
    """A 429 whose Retry-After is the back-off less the little time the test took."""
    wait = assert_too_many(response, seconds)
    assert wait > seconds - 10


async def test_an_account_backs_off_exponentially_and_success_resets_it(
    settings: Settings, build: Builder
) -> None:
    area = await build.area()
    person = await build.person(Role.DISPATCHER, area.territory)
    username = person.user.username
    async with serving(settings, **BACK_OFF) as app:
        # A new address per attempt: the back-off follows the account, not the address.
        def anywhere() -> caller:
            return caller(app, new_address())

        assert (await login(anywhere(), username)).status_code == 401
        assert (await login(anywhere(), username)).status_code == 401
        # Even the right password is refused while the account waits: no oracle.
        assert_waits(await login(anywhere(), username, PASSWORD), 30)
        await time_passes(build, username, 30)
        assert (await login(anywhere(), username, PASSWORD)).status_code == 200
        async with build.sessionmaker() as session:
            left = await session.scalar(
                select(func.count()).where(LoginFailure.account == username)
            )
        assert left == 0  # success forgot the failures
        assert [(await login(anywhere(), username)).status_code for _ in range(2)] == [401, 401]
        assert_waits(await login(anywhere(), username), 30)


async def test_unknown_usernames_back_off_the_same_way_on_every_login_form(
    settings: Settings, build: Builder
) -> None:
    username = f"ghost-{uuid.uuid4().hex[:8]}"
    async with serving(settings, **BACK_OFF) as app:
        client = caller(app, new_address())
        assert [(await login(client, username)).status_code for _ in range(2)] == [401, 401]
        assert_waits(await login(client, username), 30)
        await time_passes(build, username, 30)
        assert (await login(client, username)).status_code == 401
        # The next wait doubles, and the one after that again.
        assert_waits(await login(client, username), 60)
        await time_passes(build, username, 60)
        assert (await login(client, username)).status_code == 401
        assert_waits(await login(client, username), 120)

        # The board's form shares the account's back-off and says so in the page.
        form = await client.get("/board/login?lang=en")
        token = form.text.split(_FORM_TOKEN, 1)[1].split('"', 1)[0]
        refused = await client.post(
            "/board/login",
            data={"username": username.upper(), "password": "x", "form_token": token},
        )
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("text/html")
        assert 110 < int(refused.headers["retry-after"]) <= 120
        assert "Too many failed sign-in attempts" in refused.text


def test_forwarded_for_counts_only_from_a_trusted_proxy(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    def logins(url: str, forwarded_for: list[str]) -> list[int]:
        return [
            httpx.post(
                f"{url}/api/v1/auth/login",
                json={"username": f"nobody-{uuid.uuid4().hex}", "password": "wrong-password"},
                headers={"X-Forwarded-For": address},
            ).status_code
            for address in forwarded_for
        ]

    limit = {"NARYAD_LOGIN_RATE_PER_MINUTE": "2"}
    with serve_app(database_url, tmp_path_factory, limit) as direct:
        asyncio.run(clear_of_window_edge())
        # Nobody is trusted by default: a spoofed header does not buy a fresh bucket.
        assert logins(direct, [new_address() for _ in range(3)])[2] == 429
    trusted = {**limit, "NARYAD_TRUSTED_PROXIES": "127.0.0.1/32"}
    with serve_app(database_url, tmp_path_factory, trusted) as proxied:
        asyncio.run(clear_of_window_edge())
        assert logins(proxied, [new_address() for _ in range(4)]) == [401] * 4
        same = new_address()
        assert logins(proxied, [same, same, same]) == [401, 401, 429]


async def test_the_periodic_job_forgets_old_counters(build: Builder) -> None:
    now = datetime.now(UTC)
    tag = uuid.uuid4().hex[:8]
    async with build.sessionmaker() as session:
        session.add_all(
            [
                LoginRateWindow(
                    bucket=f"login|old-{tag}", window_start=now - timedelta(hours=1), hits=9
                ),
                LoginRateWindow(bucket=f"login|new-{tag}", window_start=now, hits=1),
                # The appeal form counts per hour: last hour's window is still in use.
                LoginRateWindow(
                    bucket=f"appeal|hour-{tag}", window_start=now - timedelta(hours=1), hits=4
                ),
                LoginRateWindow(
                    bucket=f"appeal|old-{tag}", window_start=now - timedelta(hours=3), hits=4
                ),
                LoginFailure(
                    account=f"old-{tag}", failures=7, last_attempt_at=now - timedelta(days=2)
                ),
                LoginFailure(account=f"new-{tag}", failures=7, last_attempt_at=now),
            ]
        )
        await session.commit()
    runner = JobRunner(build.sessionmaker, store=None, jobs=JOBS)  # type: ignore[arg-type]
    job = next(j for j in JOBS if j.name == "forget_login_counters")
    assert await runner.run(job) >= 3
    async with build.sessionmaker() as session:
        windows = set(
            await session.scalars(
                select(LoginRateWindow.bucket).where(LoginRateWindow.bucket.like(f"%{tag}"))
            )
        )
        accounts = set(
            await session.scalars(
                select(LoginFailure.account).where(LoginFailure.account.like(f"%{tag}"))
            )
        )
    assert windows == {f"login|new-{tag}", f"appeal|hour-{tag}"}
    assert accounts == {f"new-{tag}"}


async def test_parallel_guesses_cannot_slip_through_together(settings: Settings) -> None:
    engine = make_engine(settings.database)
    throttle = LoginThrottle(
        engine,
        msgspec.structs.replace(
            settings.auth, login_free_failures=3, login_backoff_base_seconds=60.0
        ),
    )
    username = f"target-{uuid.uuid4().hex[:8]}"

    async def guess() -> bool:
        try:
            await throttle.claim_attempt(username)
        except TooManyRequests:
            return False
        return True

    try:
        allowed = await asyncio.gather(*(guess() for _ in range(12)))
    finally:
        await engine.dispose()
    # Each attempt is counted before its password is checked: only the free ones get through.
    assert allowed.count(True) == 3
