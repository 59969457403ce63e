"""The ceiling: the work-order list and the day bundle served as directly as Python allows.

A plain ASGI app on the same uvicorn, an asyncpg pool and msgspec, answering the same requests
as naryad with the same keyset SQL, the same JSON bytes (it encodes naryad's own response
structs), the same JWT verification and scope, and the same per-request session/user/device
check. It does nothing else: no framework, no ORM, no middleware, no transaction. `make bench`
divides naryad's throughput by this app's on the same request in the same run; a test proves
that both answer the same bytes (tests/integration/reads/test_ceiling_matches.py).

Only what the benchmark requests is implemented: `GET /health`, `GET /api/v1/work-orders`
(`limit`, `cursor`, `territory_id`) and `GET /mobile/v1/day` (`date`, `If-None-Match`).
"""

from __future__ import annotations

import argparse
import os
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import asyncpg
import jwt
import msgspec

from service.auth.token_lifetime import claims_lifetime_is_allowed
from service.auth.tokens import ALGORITHM
from service.common.actor import Actor, Role
from service.common.pagination import decode_cursor, encode_cursor
from service.db.models.work_orders import OPEN_ORDER_STATUSES
from service.execution.day_reads import DAY_VISITS_SQL, VERSION_VECTOR_SQL, day_etag, visit_bundle
from service.execution.schemas import DayBundle
from service.orders.schemas import EquipmentItem, WorkOrder, WorkOrderPage
from service.settings import Settings, load_settings

LIVE_SESSION = """
SELECT 1 FROM auth_sessions s
JOIN users u ON u.id = s.user_id
LEFT JOIN devices d ON d.id = s.device_id
WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND u.is_active AND u.role = $3
  AND s.device_id IS NOT DISTINCT FROM $4 AND (d.id IS NULL OR d.revoked_at IS NULL)
"""
ORDER_COLUMNS = """
o.id, o.number, o.type, o.priority, o.status, o.description, o.requested_services,
o.required_skills, o.equipment, o.contact_phones, o.customer_id, o.site_id, o.territory_id,
o.control_deadline, o.cancel_reason, o.hold_reason, o.version, o.created_at, o.updated_at
"""
TECHNICIAN_SCOPE = """EXISTS (SELECT 1 FROM visits v WHERE v.work_order_id = o.id
    AND v.technician_id = $1 AND v.status <> 'cancelled')"""
# naryad's day SQL (named parameters) in asyncpg's numbered form: the same statements.
DAY_VISITS = (
    DAY_VISITS_SQL.replace(":technician", "$1").replace(":start", "$2").replace(":end", "$3")
)
VERSION_VECTOR = (
    VERSION_VECTOR_SQL.replace(":technician", "$1::uuid")
    .replace(":first", "$2::date")
    .replace(":last", "$3::date")
    .replace(":now", "$4::timestamptz")
)
TEMPLATE_CONTENT = """
SELECT key, version, content::text FROM checklist_templates
WHERE (key, version) IN (SELECT * FROM unnest($1::text[], $2::int[]))
"""
_EQUIPMENT = msgspec.json.Decoder(list[EquipmentItem])
_JSON = [(b"content-type", b"application/json")]


class Ceiling:
    """The app: a pool, the auth settings and a template cache; nothing else per process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool: asyncpg.Pool | None = None
        # Templates never change under a key@version: kept raw, as the database gave them.
        self.templates: dict[tuple[str, int], msgspec.Raw] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """ASGI entry point."""
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        path = scope["path"]
        if path == "/health":
            await respond(send, 200, b'{"status":"ok"}')
            return
        actor = self.actor(scope)
        if actor is None:
            await respond(send, 401, b'{"status":401}')
            return
        query = parse_qs(scope["query_string"].decode())
        assert self.pool is not None
        async with self.pool.acquire() as connection:
            live = await connection.fetchval(
                LIVE_SESSION, actor.session, actor.user_id, actor.role.value, actor.device
            )
            if not live:
                await respond(send, 401, b'{"status":401}')
                return
            if path.rstrip("/") == "/api/v1/work-orders":
                body = await self.work_orders(connection, actor, query)
                await respond(send, 200, body)
                return
            if path.rstrip("/") == "/mobile/v1/day" and actor.role is Role.TECHNICIAN:
                known = header(scope, b"if-none-match")
                etag, body = await self.day(connection, actor, query, known)
                if known == etag:
                    await respond(send, 304, b"", [(b"etag", etag.encode())])
                else:
                    extra = [(b"etag", etag.encode()), (b"cache-control", b"private")]
                    await respond(send, 200, body, extra)
                return
        await respond(send, 404, b'{"status":404}')

    async def lifespan(self, receive: Any, send: Any) -> None:
        """Open the pool at startup, close it at shutdown."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                dsn = self.settings.database.url.replace("+asyncpg", "")
                self.pool = await asyncpg.create_pool(dsn, min_size=2, max_size=10)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.pool is not None:
                    await self.pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def actor(self, scope: Any) -> Actor | None:
        """The verified caller: signature, issuer, exp, iat and the TTL bound, as naryad does."""
        raw = header(scope, b"authorization")
        if not raw or not raw.startswith("Bearer "):
            return None
        auth = self.settings.auth
        try:
            claims = jwt.decode(
                raw[7:],
                auth.jwt_secret,
                algorithms=[ALGORITHM],
                issuer=auth.issuer,
                options={"require": ["exp", "iat", "sub"]},
            )
            if not claims_lifetime_is_allowed(claims, auth):
                return None
            actor = Actor.from_claims(claims["sub"], claims)
        except (jwt.PyJWTError, KeyError, ValueError):
            return None
        return actor if actor.session is not None else None

    async def work_orders(
        self, connection: asyncpg.Connection, actor: Actor, query: dict[str, list[str]]
    ) -> bytes:
        """One keyset page, newest first, in the caller's scope."""
        limit = int(query.get("limit", ["50"])[0])
        args: list[Any] = []
        conditions = []
        if actor.role is Role.TECHNICIAN:
            args.append(actor.technician_id)
            conditions.append(TECHNICIAN_SCOPE)
        elif not actor.is_admin:
            args.append(list(actor.territory_ids))
            conditions.append(f"o.territory_id = ANY(${len(args)})")
        if "territory_id" in query:
            args.append(uuid.UUID(query["territory_id"][0]))
            conditions.append(f"o.territory_id = ${len(args)}")
        if "cursor" in query:
            after = decode_cursor(query["cursor"][0])
            args.extend((after.created_at, after.id))
            conditions.append(f"(o.created_at, o.id) < (${len(args) - 1}, ${len(args)})")
        args.append(limit + 1)
        where = " AND ".join(conditions) or "true"
        rows = await connection.fetch(
            f"SELECT {ORDER_COLUMNS} FROM work_orders o WHERE {where}"  # noqa: S608 - fixed parts
            f" ORDER BY o.created_at DESC, o.id DESC LIMIT ${len(args)}",
            *args,
        )
        now = datetime.now(UTC)
        items = [
            WorkOrder(
                id=r[0],
                number=r[1],
                type=r[2],
                priority=r[3],
                status=r[4],
                description=r[5],
                requested_services=r[6],
                required_skills=r[7],
                equipment=_EQUIPMENT.decode(r[8]),
                contact_phones=r[9],
                customer_id=r[10],
                site_id=r[11],
                territory_id=r[12],
                control_deadline=r[13],
                overdue=bool(r[13] and r[13] < now and r[4] in OPEN_ORDER_STATUSES),
                cancel_reason=r[14],
                hold_reason=r[15],
                version=r[16],
                created_at=r[17],
                updated_at=r[18],
            )
            for r in rows[:limit]
        ]
        next_cursor = (
            encode_cursor(rows[limit - 1][17], rows[limit - 1][0]) if len(rows) > limit else None
        )
        return msgspec.json.encode(WorkOrderPage(items=items, next_cursor=next_cursor))

    async def day(
        self,
        connection: asyncpg.Connection,
        actor: Actor,
        query: dict[str, list[str]],
        known_etag: str | None,
    ) -> tuple[str, bytes]:
        """The ETag of the technician's local day and, unless it is known, the bundle's bytes."""
        asked = date.fromisoformat(query["date"][0]) if "date" in query else None
        zone_name, first, last, digest = await connection.fetchrow(
            VERSION_VECTOR, actor.technician_id, asked, asked, datetime.now(UTC)
        )
        photo_side = self.settings.mobile.photo_max_side_px
        etag = day_etag(zone_name, first, last, digest, photo_side)
        if etag == known_etag:
            return etag, b""
        zone = ZoneInfo(zone_name)
        start = datetime.combine(first, time(0), tzinfo=zone)
        end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
        rows = await connection.fetch(DAY_VISITS, actor.technician_id, start, end)
        visits = [visit_bundle(row) for row in rows]
        pins = sorted({(v.checklist.key, v.checklist.version) for v in visits})
        missing = [pin for pin in pins if pin not in self.templates]
        if missing:
            for key, version, content in await connection.fetch(
                TEMPLATE_CONTENT, [k for k, _ in missing], [v for _, v in missing]
            ):
                # Re-encoded once: compact, in the key order PostgreSQL's jsonb gives.
                self.templates[(key, version)] = msgspec.Raw(
                    msgspec.json.encode(msgspec.json.decode(content))
                )
        templates = {f"{key}@{version}": self.templates[(key, version)] for key, version in pins}
        bundle = DayBundle(
            technician_id=actor.technician_id,  # type: ignore[arg-type]
            time_zone=zone_name,
            start=start,
            end=end,
            visits=visits,
            templates=templates,
            etag=etag,
            photo_max_side_px=photo_side,
        )
        return etag, msgspec.json.encode(bundle)


def header(scope: Any, name: bytes) -> str | None:
    """A request header's value."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def respond(
    send: Any, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    """A complete response in two messages."""
    headers = [*(_JSON if body else []), (b"content-length", str(len(body)).encode())]
    await send(
        {"type": "http.response.start", "status": status, "headers": headers + (extra or [])}
    )
    await send({"type": "http.response.body", "body": body})


def create_app() -> Ceiling:
    """The app on the settings of the environment (NARYAD_DATABASE_URL, NARYAD_JWT_SECRET)."""
    return Ceiling(load_settings())


def main() -> None:
    """Serve the ceiling with uvicorn configured as `naryad serve` configures it."""
    import uvicorn

    from service.cli import UVICORN_HTTP, UVICORN_LOOP

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("NARYAD_PORT", "8001")))
    args = parser.parse_args()
    uvicorn.run(
        "tests.bench.ceiling:create_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        proxy_headers=False,
        log_level="info",
        http=UVICORN_HTTP,
        loop=UVICORN_LOOP,
    )


if __name__ == "__main__":
    main()
