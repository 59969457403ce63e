"""Domain errors raised by services, and their single mapping to RFC 9457 problem+json."""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import Send
from sqlalchemy.exc import DBAPIError

logger = logging.getLogger("naryad.errors")

PROBLEM_JSON = "application/problem+json"


class FieldError(msgspec.Struct, frozen=True):
    """One invalid field: a JSON-pointer-like path and what is wrong with it."""

    field: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None
    code: str | None = None


class DomainError(Exception):
    """Base of the errors services raise; each maps to one HTTP status."""

    status_code = 400
    title = "Bad request"
    type_slug = "bad-request"
    headers: dict[str, str] | None = None

    def __init__(
        self, detail: str, *, errors: list[FieldError] | None = None, code: str | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.code = code


class NotFound(DomainError):
    """The object does not exist or is outside the caller's scope."""

    status_code = 404
    title = "Not found"
    type_slug = "not-found"


class Conflict(DomainError):
    """The request collides with the current state (duplicate, overlap, reference in use)."""

    status_code = 409
    title = "Conflict"
    type_slug = "conflict"


class Gone(DomainError):
    """The object existed but is no longer available (an expired customer link)."""

    status_code = 410
    title = "Gone"
    type_slug = "gone"


class InvalidTransition(Conflict):
    """A state machine refuses the requested transition."""

    title = "Invalid state transition"
    type_slug = "invalid-transition"


class Forbidden(DomainError):
    """The caller's role may not do this."""

    status_code = 403
    title = "Forbidden"
    type_slug = "forbidden"


class Unauthorized(DomainError):
    """Credentials are missing, wrong or revoked."""

    status_code = 401
    title = "Unauthorized"
    type_slug = "unauthorized"


class ValidationFailed(DomainError):
    """The request is well-formed but breaks a rule; carries field errors."""

    status_code = 422
    title = "Validation failed"
    type_slug = "validation-failed"


class PreconditionFailed(DomainError):
    """If-Match does not match the current version."""

    status_code = 412
    title = "Precondition failed"
    type_slug = "precondition-failed"


class PreconditionRequired(DomainError):
    """The request must be conditional (If-Match)."""

    status_code = 428
    title = "Precondition required"
    type_slug = "precondition-required"


class TooManyRequests(DomainError):
    """Too many attempts; ``Retry-After`` says when the next one is allowed."""

    status_code = 429
    title = "Too many requests"
    type_slug = "too-many-requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> Response[Any]:
    """Serialise a problem with the right media type."""
    return Response(
        content=msgspec.json.encode(problem),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


async def send_raw(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    """Answer from ASGI middleware, below Litestar's response machinery."""
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _type_uri(slug: str) -> str:
    return f"https://naryad.dev/problems/{slug}"


def domain_error_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    """Map a domain error to problem+json."""
    return problem_response(
        Problem(
            type=_type_uri(exc.type_slug),
            title=exc.title,
            status=exc.status_code,
            detail=exc.detail,
            instance=request.url.path,
            errors=exc.errors,
            code=exc.code,
        ),
        headers=exc.headers,
    )


_NAMED_FIELD = re.compile(r"(?:field|Object contains unknown field) `([^`]+)`")


def validation_errors(extra: Any) -> list[FieldError]:
    """Field errors from a Litestar validation exception's ``extra``."""
    errors: list[FieldError] = []
    if isinstance(extra, list):
        for item in extra:
            if isinstance(item, dict):
                message = str(item.get("message", "invalid"))
                key = str(item.get("key") or item.get("source") or "body")
                # msgspec names missing or unknown fields only in the message.
                if key == "data" and (named := _NAMED_FIELD.search(message)):
                    key = named.group(1)
                errors.append(FieldError(field=key, message=message))
    return errors


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Map framework exceptions (decode errors, 401, 404 routes, 413...) to problem+json."""
    status = exc.status_code
    errors: list[FieldError] | None = None
    detail = exc.detail
    if isinstance(exc, ValidationException):
        errors = validation_errors(exc.extra) or None
        if detail.startswith("Validation failed for"):
            detail = "The request does not match the schema"
    elif isinstance(exc, NotAuthorizedException):
        detail = detail or "Authentication required"
    elif isinstance(exc, PermissionDeniedException):
        detail = detail or "Your role may not do this"
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    title = {
        400: "Bad request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not found",
        405: "Method not allowed",
        408: "Request timeout",
        413: "Request body too large",
        429: "Too many requests",
    }.get(status, "Request failed")
    if exc.headers:
        headers = {**(headers or {}), **exc.headers}
    return problem_response(
        Problem(
            type=_type_uri(title.lower().replace(" ", "-")),
            title=title,
            status=status,
            detail=detail,
            instance=request.url.path,
            errors=errors,
        ),
        headers=headers,
    )


def _caused_by_overflow(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(8):  # the driver wraps the error two or three times
        if seen is None:
            return False
        if isinstance(seen, OverflowError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def out_of_range_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """400 for a value the client sent that cannot be represented (a date past year 9999 in UTC).

    Anything else reaching here (a database error of another kind) stays a logged 500.
    """
    if not _caused_by_overflow(exc):
        return internal_error_handler(request, exc)
    if not isinstance(exc, DBAPIError):
        # Raised in our own date arithmetic: usually a client's extreme date, but it could be a
        # bug of ours, so it is logged rather than only answered.
        logger.warning("out-of-range value on %s", request.url.path, exc_info=exc)
    return problem_response(
        Problem(
            type=_type_uri("bad-request"),
            title="Bad request",
            status=400,
            detail="A date or number is outside the supported range",
            instance=request.url.path,
            code="out_of_range",
        )
    )


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Log the failure and answer 500 without a stack trace."""
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(
        Problem(
            type=_type_uri("internal-error"),
            title="Internal server error",
            status=HTTP_500_INTERNAL_SERVER_ERROR,
            detail="The server failed to handle the request; it has been logged.",
            instance=request.url.path,
        )
    )


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    DomainError: domain_error_handler,
    HTTPException: http_exception_handler,
    OverflowError: out_of_range_handler,
    DBAPIError: out_of_range_handler,
    Exception: internal_error_handler,
}
