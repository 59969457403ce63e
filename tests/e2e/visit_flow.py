"""Drive a whole visit through the phone API, answering what the checklist engine asks for."""

from __future__ import annotations

import base64
import hashlib
import io
import struct
import uuid
import zlib
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from litestar import Litestar
from PIL import Image

from checklists import load_templates
from checklists.schema import step_kind
from service.acts.rendering import ActRenderer
from service.db.models import Act
from tests.integration.builders import Builder

TEMPLATES = load_templates()


def tiny_png(width: int = 60, height: int = 20) -> bytes:
    """A valid PNG (a grey line) for signatures."""
    raw = b"".join(
        b"\x00" + bytes([200 if y == height // 2 else 255] * width) for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    """A small real JPEG, different every time."""
    image = Image.new("RGB", (160, 120), tuple(uuid.uuid4().bytes[:3]))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def local_path(url: str) -> str:
    """The path and query of an absolute URL the app issued."""
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


class Phone:
    """The technician's app: pushes operations and uploads photos through the API."""

    def __init__(self, client: Any, token: str, visit_id: str, site: dict[str, float]) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}
        self.visit_id = visit_id
        self.site = site
        self.clock = datetime.now(UTC) - timedelta(minutes=50)

    def op(
        self,
        kind: str,
        payload: dict[str, Any] | None = None,
        location: dict[str, float] | None = None,
    ) -> dict[str, Any]:
        self.clock += timedelta(seconds=30)
        body: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "type": kind,
            "visit_id": self.visit_id,
            "device_time": self.clock.isoformat(),
            "payload": payload or {},
        }
        if location:
            body["location"] = location
        return body

    async def push(self, *operations: dict[str, Any]) -> list[dict[str, Any]]:
        response = await self.client.post(
            "/mobile/v1/sync/push",
            json={"operations": list(operations)},
            headers={**self.headers, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert response.status_code == 200, response.text
        results: list[dict[str, Any]] = response.json()["results"]
        return results

    async def start_photo(self, data: bytes, step_id: str | None = None) -> dict[str, Any]:
        """Reserve an upload for these JPEG bytes; the answer carries the presigned PUT."""
        started = await self.client.post(
            "/mobile/v1/photos/uploads",
            json={
                "visit_id": self.visit_id,
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data),
                "content_type": "image/jpeg",
                **({"step_id": step_id} if step_id else {}),
            },
            headers={**self.headers, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert started.status_code == 201, started.text
        photo: dict[str, Any] = started.json()
        return photo

    async def put_photo(self, upload: dict[str, Any], data: bytes) -> None:
        """Send the bytes where the presigned upload says (the app's local blob store here)."""
        put = await self.client.put(
            local_path(upload["url"]), content=data, headers=upload["headers"]
        )
        assert put.status_code < 300, put.text

    async def confirm_photo(self, photo_id: str, key: str | None = None) -> None:
        """Ask the server to verify the stored bytes (size and SHA-256); it must keep them."""
        confirmed = await self.client.post(
            f"/mobile/v1/photos/{photo_id}/confirm",
            headers={**self.headers, "Idempotency-Key": key or str(uuid.uuid4())},
        )
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["status"] == "stored", confirmed.text

    async def photo(self, step_id: str | None = None) -> str:
        """A new photo uploaded and confirmed; its id."""
        data = jpeg()
        photo = await self.start_photo(data, step_id)
        await self.put_photo(photo["upload"], data)
        await self.confirm_photo(photo["id"])
        return str(photo["id"])

    async def checklist(self, lang: str = "ru") -> dict[str, Any]:
        """The engine's state of the visit's checklist, as the server sees it."""
        response = await self.client.get(
            f"/mobile/v1/visits/{self.visit_id}/checklist",
            params={"lang": lang},
            headers=self.headers,
        )
        assert response.status_code == 200, response.text
        state: dict[str, Any] = response.json()["state"]
        return state

    async def answer_until_signing(self, key: str, *, skip: Collection[str] = ()) -> None:
        """Answer every required step the engine asks for, up to the signature.

        Steps in ``skip`` are left unanswered (the later phases are still answered when their
        gates allow it), to see what the server does without them.
        """
        template = TEMPLATES.get(key)
        left_out = {"sign_act", "sign_handover_act", "thanked", *skip}
        for _ in range(60):
            state = await self.checklist()
            pending = [s for s in state["next_required_steps"] if s not in left_out]
            if not pending:
                # The current phase waits only for skipped steps: go on with the first step
                # missing further on (missing steps come in the visit's order).
                pending = [s for s in state["missing_required_steps"] if s not in left_out][:1]
            if not pending:
                return
            for step_id in pending:
                await self.answer(template.steps[step_id].step)

        raise AssertionError("the checklist did not reach the signature")

    async def answer(self, step: Any) -> None:
        kind = step_kind(step)
        here = {"lat": self.site["lat"], "lon": self.site["lon"], "accuracy_m": 6}
        payload: dict[str, Any] = {"step_id": step.id}
        location = None
        if kind in ("confirm", "yes_no"):
            payload["value"] = True
        elif kind == "choice":
            payload["value"] = step.options[0].value
        elif kind in ("text", "person_name"):
            payload["value"] = "Нұрланова Әлия Қанатқызы"
        elif kind == "number":
            payload["value"] = step.min if step.min is not None else 1
        elif kind == "photo":
            payload["photo_ids"] = [await self.photo(step.id) for _ in range(step.min_count)]
        elif kind == "geo_check":
            location = here
        elif kind == "serial":
            payload["value"] = [
                {"value": f"SN{uuid.uuid4().hex[:10].upper()}", "method": "scanned"}
                for _ in range(step.min_count)
            ]
        results = await self.push(self.op("checklist_answer", payload, location))
        assert results[0]["status"] == "applied", (step.id, results)


def signature_body(sha256: str) -> dict[str, Any]:
    """What the signing page posts."""
    return {
        "signer_name": "Нұрланова Әлия Қанатқызы",
        "document_sha256": sha256,
        "strokes": [[[0.1, 0.5], [0.3, 0.4], [0.5, 0.6]], [[0.6, 0.5], [0.9, 0.45]]],
        "png_base64": "data:image/png;base64," + base64.b64encode(tiny_png()).decode(),
        "device_time": datetime.now(UTC).isoformat(),
        "lat": 43.25,
        "lon": 76.92,
        "accuracy_m": 9.0,
    }


async def rendered_act(app: Litestar, build: Builder, act_id: str) -> tuple[Act, bytes]:
    """Render a signed act now, as the worker would (service.acts.rendering): the act and its PDF.

    The customer's submit answers at once; the PDF is the worker's job, which tests run by hand.
    """
    renderer = ActRenderer(build.sessionmaker, app.state.blob_store, app.state.settings)
    assert await renderer.render_next(uuid.UUID(act_id)) is not None
    async with build.sessionmaker() as session:
        act = await session.get_one(Act, uuid.UUID(act_id))
    assert act.pdf_key is not None
    return act, await app.state.blob_store.get(act.pdf_key)
