"""A signed act is immutable in the database itself: raw SQL cannot change or delete it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from service.acts.sealing import Sealer
from service.db.models import Act
from tests.integration.acts.conftest import Acts, Field

pytestmark = pytest.mark.asyncio

CHANGES = {
    "snapshot": "UPDATE acts SET snapshot_json = snapshot_json || ' ' WHERE id = :id",
    "snapshot hash": "UPDATE acts SET snapshot_sha256 = repeat('0', 64) WHERE id = :id",
    "number": "UPDATE acts SET number = number || 'X' WHERE id = :id",
    "pdf hash": "UPDATE acts SET pdf_sha256 = repeat('0', 64) WHERE id = :id",
    "pdf key": "UPDATE acts SET pdf_key = 'acts/elsewhere.pdf' WHERE id = :id",
    "signatures": "UPDATE acts SET signatures_json = '[]' WHERE id = :id",
    "back to draft": "UPDATE acts SET status = 'draft' WHERE id = :id",
    "no-op": "UPDATE acts SET number = number WHERE id = :id",
    "delete": "DELETE FROM acts WHERE id = :id",
    "seal and change the number": (
        "UPDATE acts SET status = 'sealed', sealed_pdf_key = 'k', sealed_pdf_sha256 = "
        "repeat('1', 64), sealed_pdf_size = 1, sealed_at = now(), number = 'FORGED' "
        "WHERE id = :id"
    ),
}


async def _execute(acts: Acts, sql: str, **params: Any) -> None:
    async with acts.build.sessionmaker() as session:
        await session.execute(text(sql), params)
        await session.commit()


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
async def test_signed_act_refuses_every_change(acts: Acts, field: Field, change: str) -> None:
    act = await acts.signed(field)
    with pytest.raises(IntegrityError, match="act_immutable"):
        await _execute(acts, CHANGES[change], id=act.id)
    row = await acts.row(act.id)
    assert (row.status, row.number, row.snapshot_sha256, row.pdf_sha256) == (
        "signed",
        act.number,
        act.snapshot_sha256,
        act.pdf_sha256,
    )


async def test_signed_to_sealed_with_only_the_seal_fields_is_allowed(
    acts: Acts, field: Field
) -> None:
    act = await acts.signed(field)
    await _execute(
        acts,
        "UPDATE acts SET status = 'sealed', sealed_pdf_key = 'acts/k.pdf', "
        "sealed_pdf_sha256 = repeat('1', 64), sealed_pdf_size = 10, sealed_at = now(), "
        "seal_signer = 'seal', audit_hash = repeat('2', 64), updated_at = now() WHERE id = :id",
        id=act.id,
    )
    assert (await acts.row(act.id)).status == "sealed"


async def test_sealed_act_refuses_every_change(acts: Acts, field: Field, sealer: Sealer) -> None:
    act = await acts.signed(field, sealer=sealer)
    assert act.status == "sealed"
    for sql in (
        "UPDATE acts SET sealed_pdf_sha256 = repeat('0', 64) WHERE id = :id",
        "UPDATE acts SET status = 'signed' WHERE id = :id",
        "UPDATE acts SET audit_hash = NULL WHERE id = :id",
        "DELETE FROM acts WHERE id = :id",
    ):
        with pytest.raises(IntegrityError, match="act_immutable"):
            await _execute(acts, sql, id=act.id)
    assert (await acts.row(act.id)).sealed_pdf_sha256 == act.sealed_pdf_sha256


async def test_signed_needs_its_pdf_and_sealed_its_sealed_pdf(acts: Acts, field: Field) -> None:
    act = await acts.draft(field)
    with pytest.raises(IntegrityError, match="ck_acts_signed_has_signatures"):
        await _execute(acts, "UPDATE acts SET status = 'signed' WHERE id = :id", id=act.id)
    with pytest.raises(IntegrityError, match="ck_acts_"):
        await _execute(acts, "UPDATE acts SET status = 'sealed' WHERE id = :id", id=act.id)


_SIGN_WITHOUT_PDF = (
    "UPDATE acts SET status = 'signed', signatures_json = '[]', signed_at = now() WHERE id = :id"
)
_FILL_PDF = (
    "UPDATE acts SET pdf_key = :key, pdf_sha256 = repeat('a', 64), pdf_size = 10 WHERE id = :id"
)


async def test_a_signed_act_gets_its_pdf_once_and_nothing_else(acts: Acts, field: Field) -> None:
    act = await acts.draft(field)
    await _execute(acts, _SIGN_WITHOUT_PDF, id=act.id)
    # Not sealed before its PDF exists; the PDF's fields come together.
    with pytest.raises(IntegrityError, match="ck_acts_"):
        await _execute(
            acts,
            "UPDATE acts SET status = 'sealed', sealed_pdf_key = 'k', sealed_pdf_sha256 = "
            "repeat('b', 64), sealed_pdf_size = 1, sealed_at = now() WHERE id = :id",
            id=act.id,
        )
    with pytest.raises(IntegrityError, match="ck_acts_pdf_complete"):
        await _execute(acts, "UPDATE acts SET pdf_key = 'k' WHERE id = :id", id=act.id)
    # The PDF may not bring another change with it.
    with pytest.raises(IntegrityError, match="act_immutable"):
        await _execute(
            acts,
            "UPDATE acts SET pdf_key = 'k', pdf_sha256 = repeat('a', 64), pdf_size = 10, "
            "snapshot_json = '{}' WHERE id = :id",
            id=act.id,
        )
    await _execute(acts, _FILL_PDF, key="acts/first.pdf", id=act.id)
    assert (await acts.row(act.id)).pdf_key == "acts/first.pdf"
    with pytest.raises(IntegrityError, match="act_immutable"):
        await _execute(acts, _FILL_PDF, key="acts/second.pdf", id=act.id)
    assert (await acts.row(act.id)).pdf_key == "acts/first.pdf"


async def test_drafts_may_change_and_acts_cannot_be_truncated(acts: Acts, field: Field) -> None:
    act = await acts.draft(field)
    await _execute(acts, "UPDATE acts SET customer_initials = 'X.' WHERE id = :id", id=act.id)
    assert (await acts.row(act.id)).customer_initials == "X."
    with pytest.raises(IntegrityError, match="act_immutable"):
        await _execute(acts, "TRUNCATE acts CASCADE")
    await _execute(acts, "DELETE FROM acts WHERE id = :id", id=act.id)
    assert await acts.build.count(Act, Act.id == act.id) == 0
