"""Phone-side request and response bodies of the sync protocol."""

from __future__ import annotations

from typing import Annotated

import msgspec

from service.execution.sync import OperationIn, OperationResult


class PushRequest(msgspec.Struct, forbid_unknown_fields=True):
    """A batch of operations recorded offline (any order; applied in device-time order)."""

    operations: Annotated[list[OperationIn], msgspec.Meta(min_length=1, max_length=500)]


class PushResponse(msgspec.Struct):
    """One result per operation, in the order they were sent."""

    results: list[OperationResult]
