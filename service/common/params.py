"""Annotated parameter types shared by the controllers."""

from __future__ import annotations

from typing import Annotated

from litestar.di import NamedDependency
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from service.common.actor import Actor

DbSession = NamedDependency[AsyncSession]
CurrentActor = NamedDependency[Actor]
PageLimit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size")]
PageCursor = Annotated[
    str | None, QueryParameter(max_length=200, description="`next_cursor` of the previous page")
]
