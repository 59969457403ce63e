"""Mobile dependencies: the technician behind a call, and what signing needs from the app."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException

from service.acts.services import sealer_from_state
from service.auth.devices import require_mobile_actor
from service.common.actor import Actor
from service.execution.signing import SigningDeps
from service.storage import provide_blob_store


async def provide_technician(request: Request[Any, Any, Any]) -> Actor:
    """Refuse anyone but a technician on a device (its session check covered revocation)."""
    actor = request.user
    if not isinstance(actor, Actor):
        raise NotAuthorizedException("Authentication required")
    require_mobile_actor(actor)
    return actor


Technician = NamedDependency[Actor]


def provide_signing(state: State) -> SigningDeps:
    """Settings, checklist templates, blob store, seal and session factory, read once here."""
    return SigningDeps(
        settings=state.settings,
        registry=state.checklist_registry,
        store=provide_blob_store(state),
        sealer=sealer_from_state(state),
        sessionmaker=state.sessionmaker,
    )


Signing = NamedDependency[SigningDeps]
