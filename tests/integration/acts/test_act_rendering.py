"""Acts signed in the request, rendered by the worker: once, by one worker, sealed, verifiable."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from service.acts.rendering import ActRenderer
from service.acts.sealing import Sealer
from service.errors import Conflict
from tests.integration.acts.conftest import Acts, Field, signatures_for

pytestmark = pytest.mark.asyncio


async def test_a_signed_act_waits_for_its_pdf_then_gets_it_once(
    acts: Acts, field: Field, sealer: Sealer
) -> None:
    act = await acts.draft(field)
    async with acts.service(field.technician) as service:
        signed = await service.record_signatures(act.id, signatures_for(act))
    assert signed.status == "signed"
    assert signed.pdf_key is None
    assert [e.action for e in await acts.audit(act.id)] == ["act.drafted", "act.signed"]
    # Staff asking for the PDF meanwhile are told it is coming, not that it is unsigned.
    async with acts.service(field.technician) as service:
        with pytest.raises(Conflict) as pending:
            await service.pdf_url(act.id)
    assert pending.value.code == "pdf_pending"

    # Two workers at once: SKIP LOCKED gives the act to one of them.
    renderers = [
        ActRenderer(acts.build.sessionmaker, acts.store, acts.settings, sealer) for _ in range(2)
    ]
    # (this act only: other tests may leave acts waiting in the shared database)
    claimed = await asyncio.gather(*(r.render_next(act.id) for r in renderers))
    assert sorted(map(str, claimed)) == sorted([str(act.id), "None"])
    assert await renderers[0].render_next(act.id) is None

    row = await acts.row(act.id)
    assert row.status == "sealed"
    assert row.pdf_key is not None
    assert row.sealed_pdf_key is not None
    pdf = await acts.store.get(row.pdf_key)
    assert hashlib.sha256(pdf).hexdigest() == row.pdf_sha256
    assert [e.action for e in await acts.audit(act.id)] == [
        "act.drafted",
        "act.signed",
        "act.rendered",
        "act.sealed",
    ]
    # The worker's PDF is the one a synchronous render makes from the stored act.
    async with acts.service(field.technician) as service:
        assert await service.rerender(act.id) == pdf


async def test_a_signed_act_cannot_be_signed_again_while_its_pdf_is_made(
    acts: Acts, field: Field
) -> None:
    act = await acts.draft(field)
    async with acts.service(field.technician) as service:
        await service.record_signatures(act.id, signatures_for(act))
    with pytest.raises(Conflict) as again:
        async with acts.service(field.technician) as service:
            await service.record_signatures(act.id, signatures_for(act))
    assert again.value.code == "act_signed"
    assert [e.action for e in await acts.audit(act.id)] == ["act.drafted", "act.signed"]
