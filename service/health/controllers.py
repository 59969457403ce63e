"""GET /health and GET /ready."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from sqlalchemy import text

from service.errors import Problem, problem_response

# Load balancers and kubelets give up on a probe after a few seconds: answer within 2 s.
READY_BUDGET_SECONDS = 2.0


async def _check(probe: Callable[[], Awaitable[object]]) -> str:
    """``ok``, or ``unavailable`` when the probe fails or outlasts the budget."""
    try:
        await asyncio.wait_for(probe(), timeout=READY_BUDGET_SECONDS - 0.1)
    except Exception:  # noqa: BLE001 - whatever the failure (timeouts too), it is not ready
        return "unavailable"
    return "ok"


class Health(msgspec.Struct):
    """Process status."""

    status: str


class Readiness(msgspec.Struct):
    """Status of the dependencies."""

    status: str
    database: str
    storage: str


class HealthController(Controller):
    """Probes for load balancers and orchestrators."""

    tags = ["health"]
    opt = {"exclude_from_auth": True}

    @get("/health", operation_id="Health")
    async def health(self) -> Health:
        """The process is up."""
        return Health(status="ok")

    @get(
        "/ready",
        operation_id="Ready",
        responses={
            200: ResponseSpec(Readiness, description="Ready", generate_examples=False),
            503: ResponseSpec(Problem, description="A dependency is down", generate_examples=False),
        },
    )
    async def ready(self, state: State) -> Response[Any]:
        """The database and the blob store answer (within 2 s)."""

        async def database_answers() -> None:
            async with state.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))

        # Both at once, each within the budget, so the whole answer takes at most about 2 s.
        database, storage = await asyncio.gather(
            _check(database_answers), _check(state.blob_store.ping)
        )
        if database == storage == "ok":
            return Response(Readiness(status="ok", database=database, storage=storage))
        return problem_response(
            Problem(
                type="https://naryad.dev/problems/not-ready",
                title="Not ready",
                status=503,
                detail=f"database: {database}, storage: {storage}",
                instance="/ready",
            )
        )
