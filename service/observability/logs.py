"""Structured logs (structlog) with the request id of the request being served.

Every log line, ours or a library's through the standard ``logging`` module, goes through one
formatter: JSON objects in production (``NARYAD_LOG_FORMAT=json``), readable lines otherwise.
The request id comes from the client's or proxy's ``X-Request-ID`` when it is a plain token,
or is made here, is returned on every response (problem+json too) and is on every line logged
while the request is served. Phone numbers that slip into a message are masked.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import IO, Any

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service.common.access_log import MaskSecretsFilter, mask_secrets
from service.settings import ObservabilitySettings

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_STATE_KEY = "request_id"
# +7 700 123 45 67, 87001234567, (727) 250-00-00...: nine or more digits with separators.
_PHONE = re.compile(r"(?<![\w.:-])\+?\d(?:[\s()-]*\d){8,}(?![\w.:-])")
PHONE_MASK = "[phone]"

request_logger = structlog.get_logger("naryad.request")


def request_id_of(scope: Scope) -> str:
    """This request's id: the client's ``X-Request-ID`` if it is a plain token, else a new one."""
    state: MutableMapping[str, Any] = scope.setdefault("state", {})
    existing = state.get(_STATE_KEY)
    if isinstance(existing, str):
        return existing
    sent = MutableScopeHeaders(scope).get(REQUEST_ID_HEADER.lower())
    request_id = sent if sent is not None and _REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex
    state[_STATE_KEY] = request_id
    return request_id


async def add_request_id_header(message: Message, scope: Scope) -> None:
    """``before_send``: every response carries the request id (errors and 404s included)."""
    if message["type"] == "http.response.start" and scope["type"] == ScopeType.HTTP:
        MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = request_id_of(scope)


def request_context(app: ASGIApp) -> ASGIApp:
    """Middleware: bind the request id to log lines and log one line per request."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id_of(scope)):
            try:
                await app(scope, receive, watch)
            finally:
                # The one line per request (uvicorn's access line is off, configure_logging):
                # the route's template, and the path as sent, with link tokens, signatures and
                # phone numbers masked like every value of every line (_scrub).
                query = scope.get("query_string", b"")
                client = scope.get("client")
                request_logger.info(
                    "request",
                    method=scope.get("method"),
                    route=scope.get("path_template", "?"),
                    path=scope["path"] + ("?" + query.decode("latin-1") if query else ""),
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 1),
                    client=client[0] if client else None,
                )

    return middleware


def mask_phone_numbers(text: str) -> str:
    """``text`` with anything shaped like a phone number replaced."""
    return _PHONE.sub(PHONE_MASK, text)


def _scrub(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask phone numbers and link tokens in every string value."""
    for key, value in event.items():
        if isinstance(value, str) and key not in ("timestamp", "level", "logger", "request_id"):
            event[key] = mask_phone_numbers(mask_secrets(value))
    return event


def _formatter(settings: ObservabilitySettings) -> logging.Formatter:
    shared: list[Callable[..., Any]] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Callable[..., Any] = (
        structlog.processors.JSONRenderer()
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _scrub,
            renderer,
        ],
    )


class _NaryadHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The one handler configure_logging installs (recognised when called again)."""


def configure_logging(settings: ObservabilitySettings, stream: IO[str] | None = None) -> None:
    """Route structlog and the standard library through one formatter on stderr."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _NaryadHandler)]:
        root.removeHandler(handler)
    handler = _NaryadHandler(stream or sys.stderr)
    handler.setFormatter(_formatter(settings))
    handler.addFilter(MaskSecretsFilter())
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # Nothing we write shows a record's thread, process or source line: not looking them up
    # (findCaller walks the stack for every record) keeps a line's cost to its formatting.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None
    # uvicorn's own handlers would print each line a second time in its own format.
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # request_context logs the one line per request (the path masked like every value);
    # uvicorn's access line would be a second, formatted the same way. A logger with no
    # handler anywhere is one uvicorn never builds a record for.
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False


def add_handler(stream: IO[str], settings: ObservabilitySettings) -> logging.Handler:
    """Another handler with the same formatter (tests read what production would write)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_formatter(settings))
    handler.addFilter(MaskSecretsFilter())
    logging.getLogger().addHandler(handler)
    return handler


RequestHook = Callable[[Message, Scope], Awaitable[None]]


def observe_requests_first(*middleware: Any) -> Callable[[Any], Any]:
    """An on_app_init hook putting these ahead of every other middleware (guard and auth too),
    so requests refused there are logged, counted and given their request id as well."""

    def insert(app_config: Any) -> Any:
        app_config.middleware[0:0] = list(middleware)
        return app_config

    return insert


def answer_errors_here(app: ASGIApp) -> ASGIApp:
    """Middleware: turn exceptions of the layers below (auth's 401s...) into responses here,
    so the request log and the HTTP metrics above it see the status actually sent."""
    # Litestar answers exceptions at the top of the stack otherwise, above our middleware;
    # this is the wrapper it puts between each route's handler and its middleware itself.
    from litestar._asgi.utils import wrap_in_exception_handler

    return wrap_in_exception_handler(app)
