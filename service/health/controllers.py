"""GET /health and GET /ready."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from sqlalchemy import text

from service.errors import Problem, problem_response


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
        """The database and the blob store answer."""
        database = storage = "ok"
        try:
            async with state.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - whatever the failure, the database is not ready
            database = "unavailable"
        try:
            await state.blob_store.ping()
        except Exception:  # noqa: BLE001 - whatever the failure, storage is not ready
            storage = "unavailable"
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
