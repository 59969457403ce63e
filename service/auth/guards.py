"""Role guards and the ``actor`` dependency."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from service.auth.throttle import LoginThrottle
from service.common.actor import Actor, Role

# Async: Litestar runs a synchronous guard in a worker thread, a hop on every request.
Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]


def passing(*roles: Role) -> frozenset[Role]:
    """The roles a guard for ``roles`` lets through: those, and admins, who always pass."""
    return frozenset(roles) | {Role.ADMIN}


def require_roles(*roles: Role) -> Guard:
    """A guard letting through only the given roles (admins always pass)."""
    allowed = passing(*roles)

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        actor = connection.user
        if not isinstance(actor, Actor):
            raise NotAuthorizedException("Authentication required")
        if actor.role not in allowed:
            raise PermissionDeniedException(f"The {actor.role.value} role may not do this")

    return guard


STAFF = (Role.DISPATCHER, Role.COORDINATOR, Role.SUPERVISOR)
EVERYONE = (*STAFF, Role.TECHNICIAN)


async def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    """The authenticated caller (the auth middleware has already refused anonymous calls)."""
    actor = request.user
    if not isinstance(actor, Actor):
        raise NotAuthorizedException("Authentication required")
    return actor


async def provide_login_throttle(state: State) -> LoginThrottle:
    """The process's shared login-protection store."""
    throttle: LoginThrottle = state.login_throttle
    return throttle
