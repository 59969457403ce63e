"""ActService against the real database and the local blob store: drafts, numbers, signing."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import msgspec
import pytest

import reports
from reports import verify_seal
from service.acts.sealing import Sealer
from service.acts.services import ActStorageFailed
from service.audit.services import verify_chain
from service.common.actor import Role
from service.db.models import Act, Technician
from service.errors import Conflict, Forbidden, NotFound, ValidationFailed
from service.storage import IntegrityError, LocalBlobStore
from tests.integration.acts.conftest import Acts, Field, signatures_for
from tests.integration.builders import Builder

pytestmark = pytest.mark.asyncio


async def test_snapshot_for_assembles_the_visit_from_the_database(acts: Acts, field: Field) -> None:
    async with acts.service(field.technician) as service:
        snapshot = await service.snapshot_for(field.visit.id, acceptor_name="Нұрланов Қанат")
    assert snapshot.language == "kk"  # the customer's preferred language
    assert snapshot.work_order.number == field.order.number
    assert snapshot.work_order.type == "installation"
    assert snapshot.customer.name == "Нұрланова Әлия"
    assert snapshot.acceptor.name == "Нұрланов Қанат"
    assert snapshot.site.address == field.area.site.address
    assert snapshot.technician.name == "Серікбаев Қанат"
    # The kind of work with the service it concerned, never the service alone.
    assert snapshot.works_performed == ("Қосу (инсталляция): Домашний интернет 500 Мбит/с",)
    # Units in the act's language: the order's "шт" reads "дана" in a Kazakh act.
    assert [(e.name, e.serial, str(e.quantity), e.unit, e.action) for e in snapshot.equipment] == [
        ("ONT", "48575443ABCD", "1", "дана", "installed"),
        ("Кабель оптический", "", "18", "м", "installed"),
    ]
    assert snapshot.version == 2
    assert snapshot.work_order.description == field.order.description
    assert snapshot.work_order.description
    # The technician's real personnel number, not a piece of their id.
    async with acts.build.sessionmaker() as session:
        technician = await session.get_one(Technician, field.technician.actor.technician_id)
    assert snapshot.technician.employee_no == technician.personnel_no
    # No seal configured here: the act must not promise one.
    assert snapshot.contractor_signature == "contractor_statement"
    # Times in the territory's zone (Asia/Almaty, UTC+5), which the snapshot names.
    assert snapshot.time_zone == field.area.territory.time_zone == "Asia/Almaty"
    assert snapshot.agreed_window.start.utcoffset() == snapshot.finished_at.utcoffset()
    assert snapshot.finished_at.utcoffset() == timedelta(hours=5)
    assert snapshot.issuer.legal_name == acts.settings.issuer.legal_name


async def test_draft_is_numbered_hashed_and_audited(acts: Acts, field: Field) -> None:
    act = await acts.draft(field)
    year = act.act_date.year
    assert act.number == f"АВР-{year}-000001"
    assert act.status == "draft"
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", act.public_id)
    snapshot = reports.parse_snapshot(act.snapshot_json)
    assert snapshot.act_number == act.number
    assert snapshot.verify_url == f"http://127.0.0.1:8000/verify/acts/{act.public_id}"
    assert act.snapshot_sha256 == hashlib.sha256(act.snapshot_json.encode()).hexdigest()
    assert act.snapshot_sha256 == reports.snapshot_sha256(snapshot)
    assert act.customer_initials == "Н. Ә."
    assert act.technician_initials == "С. Қ."
    [entry] = await acts.audit(act.id)
    assert entry.action == "act.drafted"
    assert entry.after is not None
    assert entry.after["snapshot_sha256"] == act.snapshot_sha256
    assert act.audit_hash == entry.hash


async def test_numbers_are_gapless_per_issuer_kind_and_year(
    acts: Acts, make_field: Callable[..., Any]
) -> None:
    first = await make_field()
    second = await make_field(area=first.area)
    second.tax_id = first.tax_id
    third = await make_field(area=first.area)
    third.tax_id = first.tax_id
    numbers = [(await acts.draft(f)).number for f in (first, second)]
    handover = await acts.draft(first, kind="handover")
    # A draft whose transaction rolls back gives its number back.

    async def draft_and_roll_back() -> None:
        async with acts.service(third.technician) as service:
            base = await service.snapshot_for(third.visit.id)
            issuer = msgspec.structs.replace(base.issuer, tax_id=third.tax_id)
            await service.create_draft(third.visit.id, msgspec.structs.replace(base, issuer=issuer))
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        await draft_and_roll_back()
    numbers.append((await acts.draft(third)).number)
    year = handover.act_date.year
    assert numbers == [f"АВР-{year}-00000{n}" for n in (1, 2, 3)]
    assert handover.number == f"АСП-{year}-000001"


async def test_concurrent_drafts_never_share_a_number(
    acts: Acts, make_field: Callable[..., Any]
) -> None:
    fields = [await make_field() for _ in range(6)]
    for f in fields[1:]:
        f.tax_id = fields[0].tax_id
    drafted = await asyncio.gather(*(acts.draft(f) for f in fields))
    sequences = sorted(a.sequence for a in drafted)
    assert sequences == [1, 2, 3, 4, 5, 6]


async def test_a_retried_draft_keeps_its_number(acts: Acts, field: Field) -> None:
    first = await acts.draft(field)
    again = await acts.draft(field, customer_remarks="Претензий нет")
    assert again.id == first.id
    assert again.number == first.number
    assert again.snapshot_sha256 != first.snapshot_sha256
    assert [e.action for e in await acts.audit(first.id)] == ["act.drafted", "act.redrafted"]


async def test_sign_stores_a_reproducible_pdf_and_audits_the_hashes(
    acts: Acts, field: Field
) -> None:
    act = await acts.signed(field)
    assert act.status == "signed"
    assert act.pdf_key == f"acts/{act.id}/{act.pdf_sha256}.pdf"
    stored = await acts.store.get(act.pdf_key)
    assert stored.startswith(b"%PDF-")
    assert hashlib.sha256(stored).hexdigest() == act.pdf_sha256
    assert len(stored) == act.pdf_size
    # Deterministic renderer: the snapshot and stored signatures give the same bytes again.
    async with acts.service(field.dispatcher) as service:
        assert await service.rerender(act.id) == stored
    entries = await acts.audit(act.id)
    assert [e.action for e in entries] == ["act.drafted", "act.signed"]
    signed = entries[-1].after
    assert signed is not None
    assert signed["pdf_sha256"] == act.pdf_sha256
    assert signed["snapshot_sha256"] == act.snapshot_sha256
    assert signed["signers"] == ["contractor", "customer"]
    assert act.audit_hash == entries[-1].hash
    async with acts.build.sessionmaker() as session:
        assert (await verify_chain(session)).intact


async def test_a_signed_act_cannot_be_changed_or_signed_again(acts: Acts, field: Field) -> None:
    act = await acts.signed(field)
    async with acts.service(field.technician) as service:
        with pytest.raises(Conflict) as again:
            await service.sign(act.id, signatures_for(act))
        assert again.value.status_code == 409
        assert again.value.code == "act_signed"
        snapshot = reports.parse_snapshot(act.snapshot_json)
        changed = msgspec.structs.replace(snapshot, customer_remarks="Дописано после подписи")
        with pytest.raises(Conflict):
            await service.update_draft(act.id, changed)
        with pytest.raises(Conflict):
            await service.create_draft(field.visit.id, changed)
    assert (await acts.row(act.id)).snapshot_sha256 == act.snapshot_sha256


@pytest.mark.parametrize(
    "problem",
    ["no_customer", "other_document", "two_customers"],
)
async def test_bad_signatures_are_refused_and_write_nothing(
    acts: Acts, field: Field, problem: str
) -> None:
    act = await acts.draft(field)
    signatures = signatures_for(act)
    if problem == "no_customer":
        signatures = signatures_for(act, roles=("contractor",))
    elif problem == "other_document":
        signatures[0] = msgspec.structs.replace(signatures[0], document_sha256="0" * 64)
    else:
        signatures = [signatures[0], signatures[0]]
    async with acts.service(field.technician) as service:
        with pytest.raises(ValidationFailed) as refused:
            await service.sign(act.id, signatures)
    assert refused.value.status_code == 422
    row = await acts.row(act.id)
    assert row.status == "draft"
    assert row.pdf_key is None
    assert await acts.store.list_keys(f"acts/{act.id}/") == []
    assert [e.action for e in await acts.audit(act.id)] == ["act.drafted"]


async def test_sign_decides_on_the_act_as_locked_not_as_read_before(
    acts: Acts, field: Field
) -> None:
    act = await acts.draft(field)
    async with acts.service(field.technician) as service:
        # The session read the draft (as the signing page does) before anyone held its lock...
        seen = await service.session.get_one(Act, act.id)  # held, as a request holds it
        assert seen.snapshot_sha256 == act.snapshot_sha256
        # ...and the technician redrafted it meanwhile.
        redrafted = await acts.draft(field, customer_remarks="Дописано до подписи")
        assert redrafted.snapshot_sha256 != act.snapshot_sha256
        with pytest.raises(ValidationFailed):  # signatures over the old text sign nothing
            await service.sign(act.id, signatures_for(act))
    row = await acts.row(act.id)
    assert (row.status, row.pdf_key) == ("draft", None)
    assert row.snapshot_sha256 == redrafted.snapshot_sha256
    assert await acts.store.list_keys(f"acts/{act.id}/") == []


class CorruptingStore(LocalBlobStore):
    """Flips a byte of whatever it is given, as a broken network path or proxy would."""

    async def put(self, key: str, data: bytes, **kwargs: Any) -> Any:
        return await super().put(key, data[:-1] + bytes([data[-1] ^ 1]), **kwargs)


class LyingStore(LocalBlobStore):
    """Stores altered bytes without checking the declared SHA-256 (as S3 emulators do)."""

    async def put(self, key: str, data: bytes, **kwargs: Any) -> Any:
        kwargs.pop("sha256_hex", None)
        return await super().put(key, data[:-1] + bytes([data[-1] ^ 1]), **kwargs)


@pytest.mark.parametrize("store_class", [CorruptingStore, LyingStore])
async def test_pdf_bytes_not_matching_their_sha256_are_never_referenced(
    acts: Acts, field: Field, store_class: type[LocalBlobStore]
) -> None:
    act = await acts.draft(field)
    assert isinstance(acts.store, LocalBlobStore)
    broken = store_class(
        acts.settings.storage.local_dir,
        signing_key="k" * 32,
        public_base_url="http://127.0.0.1:8000",
    )
    async with acts.service(field.technician, store=broken) as service:
        with pytest.raises(ActStorageFailed) as failed:
            await service.sign(act.id, signatures_for(act))
    assert failed.value.code == "storage_integrity"
    row = await acts.row(act.id)
    assert (row.status, row.pdf_key, row.pdf_sha256) == ("draft", None, None)
    assert [e.action for e in await acts.audit(act.id)] == ["act.drafted"]
    assert await acts.store.list_keys(f"acts/{act.id}/") == []
    with pytest.raises(IntegrityError):  # and the store itself refuses a mismatched put
        await acts.store.put(
            f"acts/{act.id}/x.pdf", b"%PDF-1.4", content_type="application/pdf", sha256_hex="0" * 64
        )


async def test_sealed_act_keeps_both_pdfs_and_the_seal_validates(
    acts: Acts, field: Field, sealer: Sealer
) -> None:
    act = await acts.signed(field, sealer=sealer)
    assert act.status == "sealed"
    assert act.sealed_pdf_key is not None
    assert act.seal_signer == "naryad test seal"
    signed_pdf = await acts.store.get(act.pdf_key or "")
    sealed_pdf = await acts.store.get(act.sealed_pdf_key)
    assert hashlib.sha256(sealed_pdf).hexdigest() == act.sealed_pdf_sha256
    assert sealed_pdf.startswith(signed_pdf)  # an incremental update over the signed PDF
    report = await asyncio.to_thread(verify_seal, sealed_pdf, [sealer.certificate_der])
    assert report.ok, report.detail
    middle = len(signed_pdf) // 2  # inside the signed byte range: a content stream byte
    tampered = sealed_pdf[:middle] + bytes([sealed_pdf[middle] ^ 0xFF]) + sealed_pdf[middle + 1 :]
    modified = await asyncio.to_thread(verify_seal, tampered, [sealer.certificate_der])
    assert not modified.ok
    assert modified.status.value in ("modified", "invalid")
    entries = await acts.audit(act.id)
    assert [e.action for e in entries] == ["act.drafted", "act.signed", "act.sealed"]
    sealed_entry = entries[-1].after
    assert sealed_entry is not None
    assert sealed_entry["sealed_pdf_sha256"] == act.sealed_pdf_sha256


async def test_an_act_signed_without_a_seal_can_be_sealed_later(
    acts: Acts, field: Field, sealer: Sealer
) -> None:
    act = await acts.signed(field)
    assert act.status == "signed"
    async with acts.service(field.technician) as service:
        with pytest.raises(Conflict):  # no seal configured for this service
            await service.seal(act.id)
    async with acts.service(field.technician, sealer=sealer) as service:
        sealed = await service.seal(act.id)
    assert sealed.status == "sealed"
    assert (await acts.row(act.id)).sealed_pdf_sha256 == sealed.sealed_pdf_sha256


async def test_a_seal_that_fails_leaves_the_act_signed(acts: Acts, field: Field) -> None:
    bundle, _ = reports.make_dev_certificate("wrong")
    broken = Sealer(pkcs12=bundle, passphrase=b"not it", certificate_der=b"", signer_name="x")
    act = await acts.signed(field, sealer=broken)
    assert act.status == "signed"
    assert (await acts.row(act.id)).status == "signed"


async def test_only_the_visit_technician_or_an_admin_drafts_and_signs(
    acts: Acts, field: Field, build: Builder
) -> None:
    async with acts.service(field.technician) as service:
        snapshot = await service.snapshot_for(field.visit.id)
    async with acts.service(field.dispatcher) as service:
        with pytest.raises(Forbidden):
            await service.create_draft(field.visit.id, snapshot)
    other = await build.person(Role.TECHNICIAN, field.area.territory)
    async with acts.service(other) as service:
        with pytest.raises(NotFound):
            await service.create_draft(field.visit.id, snapshot)
    act = await acts.draft(field)
    async with acts.service(other) as service:
        with pytest.raises(NotFound):
            await service.sign(act.id, signatures_for(act))
    admin = await build.person(Role.ADMIN)
    async with acts.service(admin) as service:
        assert (await service.sign(act.id, signatures_for(act))).status == "signed"


async def test_no_act_before_the_technician_is_on_site(
    acts: Acts, make_field: Callable[..., Any]
) -> None:
    planned = await make_field(status="planned")
    async with acts.service(planned.technician) as service:
        snapshot = await service.snapshot_for(planned.visit.id)
        with pytest.raises(Conflict) as refused:
            await service.create_draft(planned.visit.id, snapshot)
    assert refused.value.code == "visit_not_on_site"


async def test_snapshot_of_another_order_is_refused(
    acts: Acts, make_field: Callable[..., Any]
) -> None:
    one, two = await make_field(), await make_field()
    async with acts.service(two.technician) as service:
        foreign = await service.snapshot_for(two.visit.id)
    async with acts.service(one.technician) as service:
        with pytest.raises(ValidationFailed):
            await service.create_draft(one.visit.id, foreign)


async def test_a_character_the_font_lacks_cannot_block_signing(acts: Acts, field: Field) -> None:
    act = await acts.draft(field, acceptor=reports.Acceptor(name="Нұрланов Қанат 🙂"))
    snapshot = reports.parse_snapshot(act.snapshot_json)
    assert snapshot.acceptor.name == "Нұрланов Қанат \ufffd"
    async with acts.service(field.technician) as service:
        signed = await service.sign(act.id, signatures_for(act))
    assert signed.status in ("signed", "sealed")
    assert signed.pdf_sha256
