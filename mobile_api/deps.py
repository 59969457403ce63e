"""The technician behind a mobile call: a technician token bound to a live device."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException

from service.auth.actor import Actor
from service.auth.devices import require_active_device
from service.db.engine import held_transaction


async def provide_technician(request: Request[Any, Any, Any], state: State) -> Actor:
    """Refuse anyone but a technician on a device that has not been revoked."""
    actor = request.user
    if not isinstance(actor, Actor):
        raise NotAuthorizedException("Authentication required")
    held = held_transaction(request.scope)
    if held is not None:
        # An idempotent POST already holds the request's transaction: check in it rather than
        # take a second pooled connection per request.
        await require_active_device(held.session, actor)
        return actor
    # Its own short transaction: the request's session keeps a clean start (pull sets its
    # isolation level before its first query).
    async with state.sessionmaker() as session:
        await require_active_device(session, actor)
    return actor


Technician = NamedDependency[Actor]
