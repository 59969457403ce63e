"""Pure hashing of audit entries: each hash covers the entry and the previous hash."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import msgspec

GENESIS_HASH = "0" * 64


def entry_hash(
    *,
    prev_hash: str,
    occurred_at: datetime,
    actor_user_id: str | None,
    actor_role: str | None,
    action: str,
    entity_type: str,
    entity_id: str,
    before: Any,
    after: Any,
) -> str:
    """SHA-256 over a canonical JSON of the entry and its predecessor's hash."""
    payload = msgspec.json.encode(
        {
            "prev": prev_hash,
            "at": occurred_at.isoformat(timespec="microseconds"),
            "actor": actor_user_id,
            "role": actor_role,
            "action": action,
            "type": entity_type,
            "id": entity_id,
            "before": before,
            "after": after,
        },
        order="sorted",
    )
    return hashlib.sha256(payload).hexdigest()
