"""OpenTelemetry traces of requests and SQL, only when NARYAD_OTEL_EXPORTER_OTLP_ENDPOINT is set.

The packages are an optional extra (``pip install 'naryad[otel]'``): without the setting
nothing of OpenTelemetry is imported. Spans go to ``<endpoint>/v1/traces`` (OTLP over HTTP,
protobuf) in batches; request spans are named by route template, SQL spans carry the statement
with its parameters left out (the instrumentation never records bound values).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from service.settings import ObservabilitySettings


class Tracing:
    """The tracer provider of one app, its request middleware and its SQL instrumentation."""

    def __init__(self, endpoint: str) -> None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        self.provider = TracerProvider(resource=Resource.create({"service.name": "naryad"}))
        self.provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces"))
        )

    def middleware(self) -> Any:
        """Litestar's OpenTelemetry middleware, spans named by route template."""
        from litestar.plugins.opentelemetry import OpenTelemetryConfig

        return OpenTelemetryConfig(
            tracer_provider=self.provider, exclude=["^/metrics", "^/static/"]
        ).middleware

    def instrument(self, engine: AsyncEngine) -> None:
        """A span for each SQL statement the engine runs."""
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        SQLAlchemyInstrumentor().instrument(
            engine=engine.sync_engine,
            tracer_provider=self.provider,
            enable_commenter=False,
            # Its declared range stops before SQLAlchemy 2.1, whose engine events it uses are
            # unchanged; the tracing test proves the SQL spans arrive.
            skip_dep_check=True,
        )

    def shutdown(self) -> None:
        """Send what is buffered and stop."""
        self.provider.force_flush()
        self.provider.shutdown()


def tracing_for(settings: ObservabilitySettings) -> Tracing | None:
    """Tracing when an OTLP endpoint is configured, else None (nothing imported)."""
    return Tracing(settings.otel_endpoint) if settings.otel_endpoint else None
