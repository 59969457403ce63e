"""Input limits through the whole app: deep JSON, NULs in pieces, sizes, odd input, headers."""

from __future__ import annotations

import hashlib
import urllib.parse
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import jwt
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.auth.tokens import ALGORITHM
from service.common.actor import Role
from service.db.models import Customer, RefreshToken, WorkOrder
from service.settings import Settings, load_settings
from service.storage.keys import blob_key
from service.storage.local import LocalBlobStore
from tests.conftest import problem
from tests.integration.builders import Builder

pytestmark = pytest.mark.asyncio

DEEP = b"[" * 5000 + b"]" * 5000
# Just past the limit of 64 levels, well short of what makes Python's decoder recurse too far.
JUST_TOO_DEEP = b'{"a":' * 65 + b"1" + b"}" * 65


async def call_app(
    client: AsyncTestClient[Litestar],
    method: str,
    path: str,
    headers: dict[str, str],
    chunks: Iterable[bytes],
) -> tuple[int, dict[str, str], bytes]:
    """Drive the ASGI app directly, delivering the body in exactly these pieces.

    The app runs on the test client's event loop (its portal thread), where the app's database
    pool lives: an asyncpg connection used from another loop crashes the process.
    """
    pieces = list(chunks)
    raw_path, _, query = path.partition("?")
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": urllib.parse.unquote(raw_path),
        "raw_path": raw_path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    received: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if not pieces:
            return {"type": "http.disconnect"}
        piece = pieces.pop(0)
        return {"type": "http.request", "body": piece, "more_body": bool(pieces)}

    async def send(message: dict[str, Any]) -> None:
        received.append(message)

    await anyio.to_thread.run_sync(
        client.blocking_portal.call,
        client.app,
        scope,
        receive,  # type: ignore[arg-type]
        send,  # type: ignore[arg-type]
    )
    start = received[0]
    body = b"".join(m.get("body", b"") for m in received[1:])
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body


async def test_deep_json_is_a_400_on_every_public_and_staff_body(
    client: Any, build: Builder
) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    customers_before = await build.count(Customer)
    logins_before = await build.count(RefreshToken)
    json_type = {"Content-Type": "application/json"}
    targets = [
        ("/api/v1/auth/login", json_type),
        (f"/rate/{uuid.uuid4().hex}", json_type),
        (f"/mobile/v1/sign/{uuid.uuid4().hex}", json_type),
        (f"/mobile/v1/sign/{uuid.uuid4().hex}/refuse", json_type),
        ("/api/v1/customers", {**json_type, **dispatcher.headers}),
    ]
    for path, headers in targets:
        for body in (DEEP, JUST_TOO_DEEP):
            response = await client.post(path, content=body, headers=headers)
            assert response.status_code == 400, (path, response.text)
            assert "nested" in str(problem(response)["detail"])
    # The app decodes a JSON body whatever Content-Type the client claims: so does the guard.
    for claimed in ({}, {"Content-Type": "text/plain"}, {"Content-Type": "multipart/form-data"}):
        deep = await client.post("/api/v1/auth/login", content=DEEP, headers=claimed)
        assert deep.status_code == 400, (claimed, deep.text)
        assert "nested" in str(problem(deep)["detail"])
        nul = await client.post(
            "/api/v1/auth/login",
            content=b'{"username": "a\\u0000", "password": "b"}',
            headers=claimed,
        )
        assert nul.status_code == 400, (claimed, nul.text)
        assert "NUL" in str(problem(nul)["detail"])
    # 64 levels are still a well-formed request that reaches validation.
    ok_depth = b'{"a":' * 63 + b"1" + b"}" * 63
    response = await client.post("/api/v1/auth/login", content=ok_depth, headers=json_type)
    assert response.status_code == 400
    assert "nested" not in response.text
    assert await build.count(Customer) == customers_before
    assert await build.count(RefreshToken) == logins_before


async def test_a_nul_split_across_body_pieces_is_refused(app: Litestar, client: Any) -> None:
    body = b'{"username": "admin\\u0000", "password": "demo-password"}'
    at = body.index(b"\\u0000") + 3  # the escape is cut in the middle
    status, headers, answer = await call_app(
        client,
        "POST",
        "/api/v1/auth/login",
        {"content-type": "application/json", "content-length": str(len(body))},
        [body[:at], body[at:]],
    )
    assert status == 400, answer
    assert headers["content-type"].startswith("application/problem+json")
    assert "NUL" in msgspec.json.decode(answer)["detail"]
    form = b"username=coordinator%0&password=x"
    status, _, answer = await call_app(
        client,
        "POST",
        "/board/login",
        {"content-type": "application/x-www-form-urlencoded"},
        [b"username=coordinator%", b"00&password=x"],
    )
    assert status == 400, answer
    assert form  # the unsplit spelling, for the reader


async def test_bodies_over_the_route_limit_are_cut_off_while_streaming(
    app: Litestar, client: Any, settings: Settings
) -> None:
    limit = settings.server.max_body_bytes
    piece = b" " * 65536
    pieces = [b'{"username": "a", "password": "', *([piece] * (limit // len(piece) + 2))]
    delivered: list[int] = []

    def counted() -> Iterable[bytes]:
        for p in pieces:
            delivered.append(len(p))
            yield p

    # No Content-Length: a chunked body, counted as it arrives.
    status, headers, answer = await call_app(
        client, "POST", "/api/v1/auth/login", {"content-type": "text/plain"}, counted()
    )
    assert status == 413, answer
    assert headers["connection"] == "close"
    assert msgspec.json.decode(answer)["status"] == 413
    # A declared length over the limit is answered before a single byte is read.
    status, headers, answer = await call_app(
        client,
        "POST",
        "/api/v1/auth/login",
        {"content-type": "application/json", "content-length": str(256 * 1024 * 1024)},
        [b"{"],
    )
    assert status == 413
    assert headers["connection"] == "close"
    # Thousands of digits are over the limit too, not a 500 from int().
    status, _, _ = await call_app(
        client, "POST", "/api/v1/auth/login", {"content-length": "9" * 5000}, [b"{}"]
    )
    assert status == 413
    # A malformed Content-Length is a 400, not a 500.
    status, _, _ = await call_app(
        client, "POST", "/api/v1/auth/login", {"content-length": "12abc"}, [b"{}"]
    )
    assert status == 400


async def test_blob_uploads_keep_their_larger_limit(app: Litestar, client: Any) -> None:
    store: LocalBlobStore = app.state.blob_store
    data = b"\xff\xd8" + b"\x00" * (3 * 1024 * 1024)  # 3 MiB of JPEG-ish bytes with NULs
    key = blob_key("photos", "2026", "12", f"{uuid.uuid4()}.jpg")
    upload = await store.presign_put(
        key,
        content_type="image/jpeg",
        size=len(data),
        sha256_hex=hashlib.sha256(data).hexdigest(),
    )
    url = urllib.parse.urlsplit(upload.url)
    response = await client.put(
        f"{url.path}?{url.query}", content=data, headers=dict(upload.headers)
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert await store.get(key) == data


async def test_a_non_ascii_signature_is_refused_not_a_500(app: Litestar, client: Any) -> None:
    store: LocalBlobStore = app.state.blob_store
    key = blob_key("photos", "2026", "12", f"{uuid.uuid4()}.jpg")
    await store.put(key, b"\xff\xd8photo", content_type="image/jpeg")
    url = urllib.parse.urlsplit(await store.presign_get(key))
    query = dict(urllib.parse.parse_qsl(url.query))
    for forged in ("é" * 43, "подпись", "\U0001f600"):
        tampered = urllib.parse.urlencode({**query, "sig": forged})
        response = await client.get(f"{url.path}?{tampered}")
        assert response.status_code == 403, response.text
        assert problem(response)["code"] == "bad_signature"
    good = await client.get(f"{url.path}?{url.query}")
    assert good.status_code == 200
    assert good.content == b"\xff\xd8photo"


async def test_absences_with_from_after_to_are_a_422_naming_the_field(
    client: Any, build: Builder
) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    technician = (await build.technician_at(area, 0.1, 0.1)).technician
    assert technician is not None
    now = datetime.now(UTC)
    params = {"from": (now + timedelta(days=2)).isoformat(), "to": now.isoformat()}
    response = await client.get(
        f"/api/v1/technicians/{technician.id}/absences", params=params, headers=dispatcher.headers
    )
    assert response.status_code == 422, response.text
    body = problem(response)
    assert body["errors"] == [{"field": "to", "message": "`to` must not be before `from`"}]
    params = {"from": now.isoformat(), "to": (now + timedelta(days=2)).isoformat()}
    response = await client.get(
        f"/api/v1/technicians/{technician.id}/absences", params=params, headers=dispatcher.headers
    )
    assert response.status_code == 200
    assert response.json() == []


async def test_a_token_living_longer_than_the_access_ttl_is_refused(
    client: Any, build: Builder, settings: Settings
) -> None:
    admin = await build.person(Role.ADMIN)
    claims = jwt.decode(
        admin.token, settings.auth.jwt_secret, algorithms=[ALGORITHM], issuer="naryad"
    )
    assert (await client.get("/api/v1/territories", headers=admin.headers)).status_code == 200
    now = int(datetime.now(UTC).timestamp())
    ten_years = {**claims, "iat": now, "exp": now + 10 * 365 * 86400}
    no_iat = {k: v for k, v in claims.items() if k != "iat"}
    for forged_claims in (ten_years, no_iat):
        forged = jwt.encode(forged_claims, settings.auth.jwt_secret, algorithm=ALGORITHM)
        response = await client.get(
            "/api/v1/territories", headers={"Authorization": f"Bearer {forged}"}
        )
        assert response.status_code == 401, response.text
        problem(response)
    # The board's cookie session reads the same access tokens under the same rule.
    area = await build.area()
    coordinator = await build.person(Role.COORDINATOR, area.territory)
    board_claims = jwt.decode(
        coordinator.token, settings.auth.jwt_secret, algorithms=[ALGORITHM], issuer="naryad"
    )
    seed = "seed-" + uuid.uuid4().hex
    genuine = await client.get(
        "/board/", headers={"Cookie": f"staff_access={coordinator.token}; staff_seed={seed}"}
    )
    assert genuine.status_code == 200, genuine.text
    long_lived = jwt.encode(
        {**board_claims, "iat": now, "exp": now + 10 * 365 * 86400},
        settings.auth.jwt_secret,
        algorithm=ALGORITHM,
    )
    board = await client.get(
        "/board/",
        headers={"Cookie": f"staff_access={long_lived}; staff_seed={seed}"},
        follow_redirects=False,
    )
    assert board.status_code == 303
    assert board.headers["location"].startswith("/board/login")


async def test_nosniff_on_api_pages_problems_and_blobs(app: Litestar, client: Any) -> None:
    store: LocalBlobStore = app.state.blob_store
    key = blob_key("photos", "2026", "12", f"{uuid.uuid4()}.jpg")
    await store.put(key, b"\xff\xd8photo", content_type="image/jpeg")
    url = urllib.parse.urlsplit(await store.presign_get(key))
    responses = {
        "api": await client.get("/health"),
        "problem": await client.get("/api/v1/territories"),
        "unknown route": await client.get("/no/such/page"),
        "page": await client.get("/board/login"),
        "rating page": await client.get(f"/rate/{uuid.uuid4().hex}"),
        "blob": await client.get(f"{url.path}?{url.query}"),
        "schema": await client.get("/schema/openapi.json"),
        "guard": await client.post(
            "/api/v1/auth/login", content=DEEP, headers={"Content-Type": "application/json"}
        ),
    }
    for name, response in responses.items():
        assert response.headers.get_list("x-content-type-options") == ["nosniff"], name
        assert "strict-transport-security" not in response.headers, name
    assert responses["page"].headers["content-type"].startswith("text/html")


async def test_hsts_only_when_the_public_url_is_https(settings: Settings) -> None:
    from service.app import create_app

    https = load_settings(
        {
            "NARYAD_ENV": "test",
            "NARYAD_DATABASE_URL": settings.database.url,
            "NARYAD_BLOB_DIR": settings.storage.local_dir,
            "NARYAD_PUBLIC_BASE_URL": "https://naryad.example.kz",
        }
    )
    async with AsyncTestClient(app=create_app(https), raise_server_exceptions=False) as client:
        for response in (
            await client.get("/health"),
            await client.get("/board/login"),
            await client.get("/api/v1/territories"),
        ):
            assert (
                response.headers["strict-transport-security"]
                == "max-age=31536000; includeSubDomains"
            )
            assert response.headers["x-content-type-options"] == "nosniff"
        # Behind a TLS proxy the request arrives as plain http: the board's cookies, which
        # carry its tokens, are still never sent over plain http.
        form = await client.get("http://testserver.local/board/login")
        cookies = form.headers.get_list("set-cookie")
        assert cookies
        assert all("secure" in cookie.lower() for cookie in cookies), cookies


async def test_dates_beyond_the_calendar_are_a_400_and_write_nothing(
    client: Any, build: Builder
) -> None:
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    technician = (await build.technician_at(area, 0.2, 0.2)).technician
    assert technician is not None
    before = await build.count(WorkOrder)
    # 9999-12-31 at -12:00 is year 10000 in UTC; 0001-01-01 at +14:00 is year 0.
    last, first = "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"
    order = {
        "type": "installation",
        "customer_id": str(area.customer.id),
        "site_id": str(area.site.id),
        "control_deadline": last,
    }
    calls = [
        ("POST", "/api/v1/work-orders", order, None),
        (
            "POST",
            f"/api/v1/technicians/{technician.id}/absences",
            {"period": {"start": first, "end": "0001-01-02T00:00:00+14:00"}},
            None,
        ),
        ("GET", f"/api/v1/technicians/{technician.id}/absences", None, {"from": last, "to": last}),
        ("GET", f"/api/v1/technicians/{technician.id}/day", None, {"date": "9999-12-31"}),
    ]
    for method, path, body, params in calls:
        response = await client.request(
            method, path, json=body, params=params, headers=dispatcher.headers
        )
        assert response.status_code == 400, (path, response.text)
        assert problem(response)["code"] == "out_of_range"
    assert await build.count(WorkOrder) == before


async def test_openapi_declares_the_guard_statuses_and_html_pages(app: Litestar) -> None:
    paths = app.openapi_schema.to_schema()["paths"]
    login = paths["/api/v1/auth/login"]["post"]["responses"]
    assert {"400", "408", "413", "429"} <= set(login)
    assert "408" in paths["/api/v1/customers"]["post"]["responses"]
    assert "429" not in paths["/api/v1/customers"]["post"]["responses"]
    assert "429" in paths["/mobile/v1/sign/{token}/otp"]["post"]["responses"]
    assert "408" not in paths["/api/v1/customers"]["get"]["responses"]
    rating_page = paths["/rate/{token}"]["get"]["responses"]
    for status in ("404", "409", "410"):
        assert "text/html" in rating_page[status]["content"], status
    assert "text/html" in paths["/verify/acts/{public_id}"]["get"]["responses"]["404"]["content"]
