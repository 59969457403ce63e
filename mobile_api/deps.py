"""The technician behind a mobile call: a technician token bound to a live device."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException

from service.auth.devices import require_mobile_actor
from service.common.actor import Actor


async def provide_technician(request: Request[Any, Any, Any]) -> Actor:
    """Refuse anyone but a technician on a device (its session check covered revocation)."""
    actor = request.user
    if not isinstance(actor, Actor):
        raise NotAuthorizedException("Authentication required")
    require_mobile_actor(actor)
    return actor


Technician = NamedDependency[Actor]
