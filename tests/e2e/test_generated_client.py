"""The contract is a client: one generated from openapi.yaml drives a whole visit, unmodified.

openapi-python-client turns the committed openapi.yaml into a package (once per session, locally,
no network); every call to our API below goes through that package, against the app served in
its own process. Only the photo bytes go with plain httpx: that PUT is to the blob store's
presigned URL, not to our API.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from checklists.schema import step_kind
from service.common.actor import Role
from tests.e2e.visit_flow import TEMPLATES, jpeg, tiny_png
from tests.integration.builders import PASSWORD, Builder

pytestmark = pytest.mark.asyncio

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "naryad_client"
# Modules of the generated package this test calls, by the operation's tag and operationId.
MODULES = {
    "login": "api.auth.login",
    "me": "api.auth.get_me",
    "mobile_me": "api.mobile.get_mobile_me",
    "day": "api.mobile.get_mobile_day",
    "push": "api.mobile.sync_push",
    "checklist": "api.mobile.get_mobile_visit_checklist",
    "start_upload": "api.mobile.start_photo_upload",
    "confirm_photo": "api.mobile.confirm_photo",
    "start_act": "api.mobile.start_act_signing",
    "submit_signature": "api.signing.submit_signature",
    "get_act": "api.acts.get_act",
    "models": "models",
    "client": "client",
}
SIGNATURE_STEPS = ("sign_act", "sign_handover_act", "thanked")


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """The client generated from the committed openapi.yaml, imported from a temporary dir."""
    out = tmp_path_factory.mktemp("generated-client")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(ROOT / "openapi.yaml"),
            "--output-path",
            str(out / PACKAGE),
            "--meta",
            "none",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    # Every schema and operation makes it into the client (the QR code's SVG is the one
    # answer it does not model: an image, not data).
    for trouble in ("Unable to parse", "Could not find reference", "Cannot parse"):
        output = (run.stdout + run.stderr).splitlines()
        reports = [line for line in output if trouble in line]
        assert all("image/svg+xml" in line for line in reports), run.stderr
    sys.path.insert(0, str(out))
    try:
        yield SimpleNamespace(
            **{
                name: importlib.import_module(f"{PACKAGE}.{module}")
                for name, module in MODULES.items()
            }
        )
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def key() -> str:
    """A fresh Idempotency-Key."""
    return str(uuid.uuid4())


class GeneratedPhone:
    """The technician's app written against the generated client only."""

    def __init__(self, api: SimpleNamespace, client: Any, visit: Any) -> None:
        self.api = api
        self.models = api.models
        self.client = client
        self.visit = visit
        self.clock = datetime.now(UTC) - timedelta(minutes=50)
        self.here = self.models.Location(
            lat=visit.location.lat, lon=visit.location.lon, accuracy_m=5.0
        )
        self.pushed: list[str] = []
        self.attached: dict[uuid.UUID, str] = {}

    def envelope(self) -> dict[str, Any]:
        """The fields every operation carries, a little later on the device's clock each time."""
        self.clock += timedelta(seconds=30)
        return {"id": uuid.uuid4(), "visit_id": self.visit.visit_id, "device_time": self.clock}

    async def push(self, *operations: Any) -> list[Any]:
        response = await self.api.push.asyncio_detailed(
            client=self.client,
            body=self.models.PushRequest(operations=list(operations)),
            idempotency_key=key(),
        )
        assert response.status_code == 200, response.content
        results = response.parsed.results
        assert [r.status for r in results] == ["applied"] * len(operations), [
            (r.status, r.code, r.message) for r in results
        ]
        self.pushed += [type(o).__name__ for o in operations]
        return list(results)

    async def photo(self, step_id: str) -> uuid.UUID:
        """Reserve, PUT the bytes to the presigned URL, confirm: a stored photo's id."""
        data = jpeg()
        view = await self.api.start_upload.asyncio(
            client=self.client,
            body=self.models.PhotoUploadRequest(
                visit_id=self.visit.visit_id,
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                content_type=self.models.PhotoUploadRequestContentType("image/jpeg"),
                step_id=step_id,
            ),
            idempotency_key=key(),
        )
        assert isinstance(view, self.models.PhotoView), view
        upload = view.upload
        # The blob store's URL, not our API: any HTTP client may PUT there.
        async with httpx.AsyncClient() as blobs:
            put = await blobs.request(
                upload.method,
                upload.url,
                content=data,
                headers=upload.headers.additional_properties,
            )
        assert put.status_code < 300, put.text
        confirmed = await self.api.confirm_photo.asyncio(
            view.id, client=self.client, idempotency_key=key()
        )
        assert isinstance(confirmed, self.models.PhotoView), confirmed
        assert confirmed.status == "stored"
        return uuid.UUID(str(view.id))

    async def answer(self, step: Any) -> None:
        """One required step, in the shape its kind asks for."""
        models = self.models
        kind = step_kind(step)
        if kind == "photo" and step.min_count == 1:
            photo_id = await self.photo(step.id)
            await self.push(
                models.PhotoAttachedOperation(
                    **self.envelope(),
                    type_=models.PhotoAttachedOperationType.PHOTO_ATTACHED,
                    payload=models.PhotoAttachedPayload(photo_id=photo_id, step_id=step.id),
                )
            )
            self.attached[photo_id] = step.id
            return
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
            payload["photo_ids"] = [str(await self.photo(step.id)) for _ in range(step.min_count)]
        elif kind == "geo_check":
            location = self.here
        elif kind == "serial":
            payload["value"] = [
                models.SerialEntry(
                    value=f"SN{uuid.uuid4().hex[:10].upper()}",
                    method=models.SerialEntryMethod.SCANNED,
                )
                for _ in range(step.min_count)
            ]
        await self.push(
            models.ChecklistAnswerOperation(
                **self.envelope(),
                type_=models.ChecklistAnswerOperationType.CHECKLIST_ANSWER,
                payload=models.AnswerPayload(**payload),
                **({"location": location} if location is not None else {}),
            )
        )

    async def answer_until_signing(self) -> None:
        """Answer what the checklist engine asks for, until only the signature is left."""
        template = TEMPLATES.get(self.visit.work_type)
        for _ in range(60):
            view = await self.api.checklist.asyncio(self.visit.visit_id, client=self.client)
            assert isinstance(view, self.models.VisitChecklistView), view
            pending = [s for s in view.state.next_required_steps if s not in SIGNATURE_STEPS]
            if not pending:
                return
            for step_id in pending:
                await self.answer(template.steps[step_id].step)
        raise AssertionError("the checklist did not reach the signature")


async def test_a_generated_client_drives_a_whole_visit(
    generated: SimpleNamespace, live_server: str, build: Builder
) -> None:
    api, models = generated, generated.models
    area = await build.area()
    dispatcher = await build.person(Role.DISPATCHER, area.territory)
    technician = await build.technician_at(area, 0.5, 0.5)
    assert technician.technician is not None
    order = await build.order(area, status="scheduled")
    await build.visit(
        order, technician.technician, start=datetime.now(UTC) - timedelta(minutes=30), hours=3
    )
    anonymous = api.client.Client(base_url=live_server, raise_on_unexpected_status=True)

    tokens = await api.login.asyncio(
        client=anonymous,
        body=models.LoginRequest(
            username=technician.user.username,
            password=PASSWORD,
            device_id=f"android-{uuid.uuid4().hex[:8]}",
            app_version="2.3.1",
        ),
    )
    assert isinstance(tokens, models.TokenPair), tokens
    phone_client = api.client.AuthenticatedClient(
        base_url=live_server, token=tokens.access_token, raise_on_unexpected_status=True
    )

    me = await api.mobile_me.asyncio(client=phone_client)
    assert isinstance(me, models.Me), me
    assert str(me.technician_id) == str(technician.technician.id)
    assert me.personnel_no == technician.technician.personnel_no
    assert [str(t.id) for t in me.territories] == [str(area.territory.id)]

    day = await api.day.asyncio(client=phone_client)
    assert isinstance(day, models.DayBundle), day
    (visit,) = day.visits
    assert str(visit.work_order_id) == str(order.id)
    phone = GeneratedPhone(api, phone_client, visit)

    await phone.push(
        models.EnRouteOperation(
            **phone.envelope(),
            type_=models.EnRouteOperationType.EN_ROUTE,
            payload=models.EnRoutePayload(eta=phone.clock + timedelta(minutes=10)),
        ),
        models.ArrivedOperation(
            **phone.envelope(),
            type_=models.ArrivedOperationType.ARRIVED,
            payload=models.ArrivedPayload(),
            location=phone.here,
        ),
        models.NoteOperation(
            **phone.envelope(),
            type_=models.NoteOperationType.NOTE,
            payload=models.NotePayload(text="Домофон не работает, позвонить"),
        ),
    )
    await phone.answer_until_signing()
    assert "ChecklistAnswerOperation" in phone.pushed

    # A blurred photo is retaken before the act is frozen: the typed photo_replaced operation.
    blurred, step_id = next(iter(phone.attached.items()))
    retaken = await phone.photo(step_id)
    await phone.push(
        models.PhotoReplacedOperation(
            **phone.envelope(),
            type_=models.PhotoReplacedOperationType.PHOTO_REPLACED,
            payload=models.PhotoReplacedPayload(photo_id=blurred, replacement_id=retaken),
        )
    )

    link = await api.start_act.asyncio(
        visit.visit_id, client=phone_client, body=models.ActStart(), idempotency_key=key()
    )
    assert isinstance(link, models.SigningLink), link
    assert (str(link.visit_id), str(link.work_order_id)) == (str(visit.visit_id), str(order.id))
    token = urlsplit(link.signing_url).path.rstrip("/").rsplit("/", 1)[-1]

    # The customer signs on the phone's browser: the public operation needs no bearer token.
    signed = await api.submit_signature.asyncio(
        token,
        client=anonymous,
        body=models.SignatureSubmission(
            signer_name="Нұрланова Әлия Қанатқызы",
            document_sha256=link.snapshot_sha256,
            strokes=[[[0.1, 0.5], [0.3, 0.4], [0.5, 0.6]], [[0.6, 0.5], [0.9, 0.45]]],
            png_base64="data:image/png;base64," + base64.b64encode(tiny_png()).decode(),
            device_time=datetime.now(UTC),
        ),
    )
    assert isinstance(signed, models.SignedAct), signed
    assert signed.status == "signed"
    assert str(signed.act_id) == str(link.act_id)
    assert str(signed.visit_id) == str(visit.visit_id)
    assert str(signed.work_order_id) == str(order.id)

    # The dispatcher of the territory reads the signed act through the same client.
    staff_tokens = await api.login.asyncio(
        client=anonymous,
        body=models.LoginRequest(username=dispatcher.user.username, password=PASSWORD),
    )
    staff_client = api.client.AuthenticatedClient(
        base_url=live_server, token=staff_tokens.access_token, raise_on_unexpected_status=True
    )
    staff_me = await api.me.asyncio(client=staff_client)
    assert isinstance(staff_me, models.Me), staff_me
    assert (staff_me.role, staff_me.technician_id) == ("dispatcher", None)
    act = await api.get_act.asyncio(signed.act_id, client=staff_client)
    assert isinstance(act, models.Act), act
    assert act.number == signed.act_number
    assert act.status == "signed"
    assert act.snapshot_sha256 == link.snapshot_sha256
