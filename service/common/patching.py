"""Applying PATCH structs (UNSET means "leave as is")."""

from __future__ import annotations

from typing import Any

import msgspec


def changed_fields(patch: msgspec.Struct) -> dict[str, Any]:
    """The fields a PATCH body actually set."""
    return {
        name: value
        for name in patch.__struct_fields__
        if (value := getattr(patch, name)) is not msgspec.UNSET
    }


def snapshot(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """Selected attributes of a model, for audit before/after."""
    return {name: getattr(obj, name) for name in fields}
