"""A sync batch the guard refuses neither applies anything nor spends its Idempotency-Key."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.conftest import problem
from tests.integration.mobile.conftest import Field, op

pytestmark = pytest.mark.asyncio


async def test_a_refused_batch_leaves_the_key_free_for_the_real_one(
    client: Any, field: Field
) -> None:
    key = str(uuid.uuid4())
    note = op(field.visit.id, "note", {"text": "Счётчик заменён"})
    headers = {**field.phone.headers(key), "Content-Type": "application/json"}
    deep = json.dumps({"operations": [note]})[:-1] + ', "x": ' + "[" * 100 + "]" * 100 + "}"
    refused = await client.post("/mobile/v1/sync/push", content=deep.encode(), headers=headers)
    assert refused.status_code == 400, refused.text
    assert "nested" in str(problem(refused)["detail"])
    with_nul = {"operations": [op(field.visit.id, "note", {"text": "a\u0000b"})]}
    refused = await client.post("/mobile/v1/sync/push", json=with_nul, headers=headers)
    assert refused.status_code == 400, refused.text
    # The same key then carries the real batch once: applied, and a resend is a replay.
    body = {"operations": [note]}
    first = await client.post("/mobile/v1/sync/push", json=body, headers=headers)
    assert first.status_code == 200, first.text
    assert [r["status"] for r in first.json()["results"]] == ["applied"]
    again = await client.post("/mobile/v1/sync/push", json=body, headers=headers)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
