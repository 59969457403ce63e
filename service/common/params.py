"""Annotated parameter types shared by the controllers."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from service.common.actor import Actor
from service.common.pagination import DEFAULT_LIMIT, TerritoryPageQuery
from service.errors import FieldError, ValidationFailed
from service.settings import Settings

DbSession = NamedDependency[AsyncSession]
CurrentActor = NamedDependency[Actor]
# The app's settings, read once by create_app(); handlers take them instead of the app state.
AppSettings = NamedDependency[Settings]


async def provide_settings(state: State) -> Settings:
    """The settings the app was built with."""
    settings: Settings = state.settings
    return settings


def uuid_or_none(value: str | None) -> uuid.UUID | None:
    """A page's query or form value as a UUID, or None when it is empty or not a UUID."""
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


PageLimit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size")]
PageCursor = Annotated[
    str | None, QueryParameter(max_length=200, description="`next_cursor` of the previous page")
]

# One name per concept in query strings: `territory_id` and `technician_id`, as on the directory
# and work-order lists. The coordination and incident lists' older `territory` and `technician`
# stay accepted for one release, declared deprecated in openapi.yaml.
DEPRECATED_QUERY_NAMES = {"territory": "territory_id", "technician": "technician_id"}
TerritoryFilter = Annotated[
    uuid.UUID | None, QueryParameter(description="Only this territory (one of the caller's)")
]
TechnicianFilter = Annotated[uuid.UUID | None, QueryParameter(description="Only this technician")]
OldTerritoryFilter = Annotated[
    uuid.UUID | None,
    QueryParameter(description="Deprecated name of `territory_id`, accepted for one release"),
]
OldTechnicianFilter = Annotated[
    uuid.UUID | None,
    QueryParameter(description="Deprecated name of `technician_id`, accepted for one release"),
]


def renamed_query(
    current: uuid.UUID | None, old: uuid.UUID | None, old_name: str
) -> uuid.UUID | None:
    """The value of a renamed query parameter, given under its new name or its deprecated one."""
    if current is not None and old is not None and current != old:
        new_name = DEPRECATED_QUERY_NAMES[old_name]
        raise ValidationFailed(
            f"`{old_name}` is the deprecated name of `{new_name}`; give one of them",
            errors=[FieldError(field=old_name, message=f"differs from {new_name}")],
        )
    return current if current is not None else old


async def provide_territory_page(
    territory_id: TerritoryFilter = None,
    cursor: PageCursor = None,
    limit: PageLimit = DEFAULT_LIMIT,
    territory: OldTerritoryFilter = None,
) -> TerritoryPageQuery:
    """The query of a staff list by territory: `territory_id` (or its old name), the page."""
    return TerritoryPageQuery(renamed_query(territory_id, territory, "territory"), cursor, limit)


# A handler's parameter of this name and type gets the list query above.
TerritoryPage = NamedDependency[TerritoryPageQuery]
