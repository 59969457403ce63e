"""The application factory."""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar, Response, get
from litestar.config.compression import CompressionConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.security.jwt import JWTAuth, Token
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from sqlalchemy.ext.asyncio import AsyncSession

from service.acts.controllers import (
    ActController,
    ActVerificationController,
    CustomerLinksController,
)
from service.admin.controllers import OutboxAdminController, StaffUserController
from service.appeals.controllers import CONTROLLERS as APPEAL_CONTROLLERS
from service.appeals.page import CONTROLLERS as APPEAL_PAGE_CONTROLLERS
from service.auth.controllers import AuthController, DeviceController, MeController
from service.auth.guards import provide_actor, provide_login_throttle
from service.auth.openapi import document_rate_limits
from service.auth.rate_limit import LoginRateLimitMiddleware
from service.auth.sessions import request_session_is_live
from service.auth.throttle import LoginThrottle
from service.auth.token_lifetime import bounded_token_class
from service.auth.tokens import ALGORITHM
from service.board.controllers import CONTROLLERS as BOARD_CONTROLLERS
from service.board.page import BoardPageController
from service.common.access_log import install_access_log_masking
from service.common.actor import Actor
from service.common.params import provide_settings, provide_territory_page
from service.common.request_guard import RequestGuardMiddleware, guard_requests_first
from service.common.security_headers import security_headers
from service.customers.controllers import CustomerController, SiteController
from service.db.engine import (
    close_request_session,
    make_engine,
    make_read_sessionmaker,
    make_sessionmaker,
    make_snapshot_sessionmaker,
    open_request_session,
    provide_db_session,
)
from service.db.reads import (
    RequestReads,
    RequestSessionCloser,
    close_request_reads,
    open_request_reads,
    provide_reads,
    wants_raw_reads,
)
from service.db.standby import make_standby_reads, provide_standby
from service.errors import EXCEPTION_HANDLERS
from service.escalations.controllers import CONTROLLERS as ESCALATION_CONTROLLERS
from service.health.controllers import HealthController
from service.incidents.controllers import IncidentController
from service.jobs import run_background
from service.observability.controllers import MetricsController
from service.observability.logs import (
    add_request_id_header,
    answer_errors_here,
    configure_logging,
    observe_requests_first,
    request_context,
)
from service.observability.metrics import http_metrics_config
from service.observability.tracing import tracing_for
from service.openapi import (
    document_deprecated_query_names,
    document_problem_responses,
    document_sync_payloads,
)
from service.orders.controllers import WorkOrderController
from service.ratings.controllers import CONTROLLERS as RATING_CONTROLLERS
from service.scheduling.controllers import (
    OrderSchedulingController,
    TechnicianScheduleController,
    VisitController,
)
from service.settings import Settings, load_settings
from service.sla.controllers import CONTROLLERS as SLA_CONTROLLERS
from service.staff.appeal_analysis_page import AppealAnalysisController
from service.staff.appeal_reasons_page import AppealReasonsController
from service.staff.appeals_page import AppealsPageController
from service.staff.coordinate_page import CoordinatePageController
from service.staff.customers_page import DispatchCustomerController
from service.staff.dispatch_page import DispatchPageController
from service.staff.schedule_pages import DispatchBoardPages
from service.staff.web import STAFF_ROUTES
from service.storage import build_blob_store
from service.storage.controllers import BlobController
from service.technicians.controllers import TechnicianController
from service.territories.controllers import TerritoryController
from service.visit_checklists.controllers import VisitChecklistController
from service.visit_checklists.registry import TemplateRegistry

API_VERSION = "0.1.0"
# Server-rendered pages of service/ (the rating page, the board).
SERVICE_TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
# Vendored scripts and styles the app serves itself (no CDN).
STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_PATH = "/static"
PUBLIC_PATHS = [
    "/health",
    "/favicon.ico",
    "/ready",
    "/schema",
    "/static/",
    "/api/v1/auth/",
    "/blobs/",
    "/verify/",
    # Customers have no accounts: single-use tokens in these URLs are their authorisation.
    "/mobile/v1/sign/",
    "/mobile/v1/acts/copy/",
    "/rate/",
    # The public appeal form and the status page behind the customer's link.
    "/appeal",
    # Staff pages (board, dispatch, their sign-in) authenticate with the staff cookie session.
    "/board",
    "/coordinate",
    "/staff/",
    "/dispatch",
]


async def _actor_from_token(
    token: Token, connection: ASGIConnection[Any, Any, Any, Any]
) -> Actor | None:
    """The caller, only while the token's session, user and device are live (else 401).

    The check is the first statement of the request's one session (a RAW_READS route's: of its
    raw reads' connection), which the handler then uses; read-only handlers get a session
    without BEGIN/COMMIT.
    """
    try:
        actor = Actor.from_claims(token.sub, token.extras)
    except (KeyError, ValueError):
        return None
    scope, state, opt = connection.scope, connection.app.state, connection.route_handler.opt
    checked_on: AsyncSession | RequestReads
    if wants_raw_reads(scope, opt):
        # The route reads raw SQL only (service.db.reads): the check opens its connection.
        checked_on, close = open_request_reads(scope, state.engine), close_request_reads
    else:
        checked_on, close = open_request_session(scope, state, opt), close_request_session
    try:
        live = await request_session_is_live(checked_on, actor)
    except BaseException:
        await close(scope)
        raise
    if not live:
        await close(scope)
        return None
    if isinstance(checked_on, RequestReads):
        checked_on.actor = actor
    return actor


def _auth(settings: Settings) -> JWTAuth[Actor, Token]:
    return JWTAuth[Actor, Token](
        retrieve_user_handler=_actor_from_token,
        token_secret=settings.auth.jwt_secret,
        algorithm=ALGORITHM,
        accepted_issuers=[settings.auth.issuer],
        # Litestar searches these patterns anywhere in the path: anchor them to its start.
        exclude=[f"^{re.escape(prefix)}" for prefix in PUBLIC_PATHS],
        exclude_opt_key="exclude_from_auth",
        token_cls=bounded_token_class(settings.auth),
        # A token without iat would get "now" and pass the lifetime check.
        require_claims=["iat"],
    )


def _swagger_ui() -> SwaggerRenderPlugin:
    # Served by the app itself, never a CDN: /schema must work on a machine without internet.
    assets = f"{STATIC_PATH}/vendor/swagger-ui"
    return SwaggerRenderPlugin(
        path="/",
        js_url=f"{assets}/swagger-ui-bundle.js",
        css_url=f"{assets}/swagger-ui.css",
        standalone_preset_js_url=f"{assets}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{assets}/favicon-32x32.png'>",
    )


@functools.cache
def _favicon_bytes() -> bytes:
    # Read on the first request, not at import (no I/O when the module is imported).
    return (STATIC_DIR / "favicon.png").read_bytes()


@get("/favicon.ico", include_in_schema=False, sync_to_thread=False)
def favicon() -> Response[bytes]:
    """The icon browsers ask every page's origin for (staff, customer and verify pages)."""
    # Served as PNG under the conventional name: every browser accepts it.
    return Response(
        _favicon_bytes(),
        media_type="image/png",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the app; settings are read here, once, never at import time."""
    settings = settings or load_settings()
    configure_logging(settings.observability)
    tracing = tracing_for(settings.observability)
    # Link tokens and URL signatures never reach the access log.
    install_access_log_masking()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = make_engine(settings.database)
        if tracing is not None:
            tracing.instrument(engine)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        app.state.read_sessionmaker = make_read_sessionmaker(engine)
        app.state.snapshot_sessionmaker = make_snapshot_sessionmaker(engine)
        app.state.standby_reads = make_standby_reads(settings.database)
        if tracing is not None and app.state.standby_reads.engine is not None:
            tracing.instrument(app.state.standby_reads.engine)
        app.state.login_throttle = LoginThrottle(engine, settings.auth)
        app.state.blob_store = build_blob_store(settings)
        app.state.checklist_registry = TemplateRegistry()
        stop = asyncio.Event()
        background = (
            asyncio.create_task(
                run_background(settings, app.state.sessionmaker, app.state.blob_store, stop)
            )
            if settings.server.embedded_worker
            else None
        )
        try:
            yield
        finally:
            stop.set()
            if background is not None:
                await background
            await engine.dispose()
            await app.state.standby_reads.dispose()
            if tracing is not None:
                tracing.shutdown()

    # The app is the composition root: it mounts the phone surface, which depends on service/.
    from mobile_api import TEMPLATES_DIR, mobile_router
    from mobile_api.app_shell import TechAppController, app_static_router
    from mobile_api.idempotency import document_idempotency

    auth = _auth(settings)
    guard = RequestGuardMiddleware(
        read_timeout_seconds=settings.server.body_read_timeout_seconds,
        max_json_depth=settings.server.max_json_depth,
    )
    app = Litestar(
        route_handlers=[
            HealthController,
            favicon,
            MetricsController,
            OutboxAdminController,
            StaffUserController,
            AuthController,
            DeviceController,
            MeController,
            TerritoryController,
            CustomerController,
            SiteController,
            TechnicianController,
            WorkOrderController,
            OrderSchedulingController,
            VisitController,
            TechnicianScheduleController,
            VisitChecklistController,
            *APPEAL_CONTROLLERS,
            *APPEAL_PAGE_CONTROLLERS,
            *BOARD_CONTROLLERS,
            *ESCALATION_CONTROLLERS,
            *RATING_CONTROLLERS,
            *SLA_CONTROLLERS,
            IncidentController,
            ActController,
            ActVerificationController,
            CustomerLinksController,
            BlobController,
            mobile_router,
            TechAppController,
            app_static_router,
            BoardPageController,
            *STAFF_ROUTES,
            DispatchPageController,
            CoordinatePageController,
            AppealsPageController,
            AppealAnalysisController,
            AppealReasonsController,
            DispatchCustomerController,
            DispatchBoardPages,
            create_static_files_router(
                path=STATIC_PATH,
                directories=[STATIC_DIR],
                include_in_schema=False,
                # Vendored files change only with the app's version.
                cache_control=CacheControlHeader(max_age=86400, public=True),
            ),
        ],
        dependencies={
            "db_session": Provide(provide_db_session),
            "reads": Provide(provide_reads),
            "standby": Provide(provide_standby),
            "actor": Provide(provide_actor),
            "territory_page": Provide(provide_territory_page),
            "settings": Provide(provide_settings),
            "login_throttle": Provide(provide_login_throttle),
        },
        lifespan=[lifespan],
        state=State({"settings": settings}),
        # The body guard goes in last so that it runs first, ahead of authentication.
        on_app_init=[
            auth.on_app_init,
            guard_requests_first(guard),
            # Ahead of the guard: refused requests are logged and counted with their id too.
            observe_requests_first(
                *([tracing.middleware()] if tracing is not None else []),
                request_context,
                http_metrics_config().middleware,
                answer_errors_here,
            ),
        ],
        before_send=[security_headers(settings.server.public_base_url), add_request_id_header],
        # Logins, refreshes, board logins and one-time codes each have a per-address bucket,
        # counted in PostgreSQL by every process; checked after the body guard and
        # authentication, before a handler reads the body.
        # The closer sits inside authentication, which may open the request's session.
        middleware=[RequestSessionCloser(), LoginRateLimitMiddleware()],
        exception_handlers=EXCEPTION_HANDLERS,
        # Logging is configure_logging's (JSON, phone numbers and secrets masked, one handler
        # writing in the request's thread). Litestar's default config would replace the root
        # handler with its queue handler: plain-text lines, nothing masked, and a thread woken
        # for every line (an eighth of a served list request's CPU). Unhandled errors are
        # logged by service.errors.
        logging_config=None,
        request_max_body_size=settings.server.max_body_bytes,
        # Blobs are photos and PDFs: already compressed, and their Content-Length matters.
        compression_config=(
            CompressionConfig(
                backend="gzip",
                minimum_size=2048,
                exclude="/blobs",
                gzip_compress_level=settings.server.gzip_level,
            )
            if settings.server.gzip_level
            else None
        ),
        openapi_config=OpenAPIConfig(
            title="naryad",
            version=API_VERSION,
            description="Field-service work orders: dispatch, technicians, checklists, acts.",
            path="/schema",
            render_plugins=[_swagger_ui()],
        ),
        template_config=TemplateConfig(
            directory=[TEMPLATES_DIR, SERVICE_TEMPLATES_DIR], engine=JinjaTemplateEngine
        ),
        debug=settings.server.debug,
    )
    document_problem_responses(app.openapi_schema, PUBLIC_PATHS)
    document_idempotency(app.openapi_schema)
    document_sync_payloads(app.openapi_schema)
    document_deprecated_query_names(app.openapi_schema)
    document_rate_limits(app.openapi_schema)
    return app
