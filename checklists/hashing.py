"""Content identity of a template: SHA-256 over a canonical JSON encoding."""

from __future__ import annotations

import hashlib

import msgspec

from checklists.schema import Template


def canonical_json(template: Template) -> bytes:
    """Compact JSON, keys sorted, defaults left out: equal content always encodes equally."""
    return msgspec.json.encode(template, order="sorted")


def content_hash(template: Template) -> str:
    """Hex SHA-256 of the template's canonical JSON; the identity a visit pins."""
    return hashlib.sha256(canonical_json(template)).hexdigest()
