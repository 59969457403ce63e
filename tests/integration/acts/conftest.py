"""Act fixtures: a visit on site, the act service wired to the app's blob store, signatures."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from sqlalchemy import select

import reports
from reports import make_dev_certificate, pkcs12_certificate
from service.acts.sealing import Sealer
from service.acts.services import ActService
from service.common.actor import Role
from service.db.models import Act, AuditEntry, Visit, WorkOrder
from service.settings import Settings
from service.storage import BlobStore, build_blob_store
from tests.integration.builders import Area, Builder, Person


def random_tax_id() -> str:
    """A 12-digit BIN of a test issuer: each test numbers acts in a series of its own."""
    return "".join(random.choice("0123456789") for _ in range(12))


@dataclass
class Field:
    """A territory with its staff, a technician on site at a visit, and the order."""

    area: Area
    dispatcher: Person
    technician: Person
    order: WorkOrder
    visit: Visit
    tax_id: str


@dataclass
class Acts:
    """Runs ActService in committed transactions of the test's own sessions."""

    build: Builder
    settings: Settings
    store: BlobStore
    sealer: Sealer | None = None

    @asynccontextmanager
    async def service(
        self, person: Person, *, sealer: Sealer | None = None, store: BlobStore | None = None
    ) -> AsyncIterator[ActService]:
        """A service in one transaction, committed when the block ends without an error."""
        async with self.build.sessionmaker() as session:
            yield ActService(
                session,
                person.actor,
                settings=self.settings,
                blob_store=store or self.store,
                sealer=sealer or self.sealer,
            )
            await session.commit()

    async def draft(self, field: Field, kind: str = "completion", **snapshot: Any) -> Act:
        """A draft act of the field's visit, numbered in the field's issuer series."""
        async with self.service(field.technician) as service:
            base = await service.snapshot_for(field.visit.id, kind=kind)  # type: ignore[arg-type]
            issuer = msgspec.structs.replace(base.issuer, tax_id=field.tax_id)
            return await service.create_draft(
                field.visit.id, msgspec.structs.replace(base, issuer=issuer, **snapshot)
            )

    async def signed(self, field: Field, *, sealer: Sealer | None = None) -> Act:
        """A draft, then signed by the customer and the technician."""
        act = await self.draft(field)
        async with self.service(field.technician, sealer=sealer) as service:
            return await service.sign(act.id, signatures_for(act))

    async def row(self, act_id: uuid.UUID) -> Act:
        """The act as stored now."""
        async with self.build.sessionmaker() as session:
            return (await session.scalars(select(Act).where(Act.id == act_id))).one()

    async def audit(self, act_id: uuid.UUID) -> list[AuditEntry]:
        """Audit entries about the act, oldest first."""
        async with self.build.sessionmaker() as session:
            return list(
                (
                    await session.scalars(
                        select(AuditEntry)
                        .where(AuditEntry.entity_type == "act", AuditEntry.entity_id == str(act_id))
                        .order_by(AuditEntry.id)
                    )
                ).all()
            )


def strokes() -> reports.SignatureStrokes:
    """A small handwritten scribble."""
    return reports.SignatureStrokes(
        strokes=(((0.1, 0.6), (0.3, 0.2), (0.5, 0.7), (0.9, 0.3)), ((0.2, 0.8), (0.8, 0.8)))
    )


def signatures_for(act: Act, *, roles: tuple[str, ...] = ("customer", "contractor")) -> list[Any]:
    """Signatures over the act's snapshot hash, drawn as strokes."""
    names = {"customer": "Нұрланова Әлия", "contractor": "Серікбаев Қанат"}
    return [
        reports.Signature(
            role=role,  # type: ignore[arg-type]
            signer_name=names[role],
            signed_at=datetime(2026, 3, 12, 11, 48, tzinfo=UTC),
            document_sha256=act.snapshot_sha256,
            location=reports.GeoLocation(lat=43.23, lon=76.9, accuracy_m=8.0),
            strokes=strokes(),
        )
        for role in roles
    ]


def dev_sealer() -> Sealer:
    """A throwaway self-signed seal."""
    bundle, passphrase = make_dev_certificate("naryad test seal")
    return Sealer(
        pkcs12=bundle,
        passphrase=passphrase,
        certificate_der=pkcs12_certificate(bundle, passphrase),
        signer_name="naryad test seal",
    )


@pytest.fixture(scope="session")
def sealer() -> Sealer:
    """One dev seal for the session (key generation is not free)."""
    return dev_sealer()


@pytest.fixture
async def acts(build: Builder, settings: Settings) -> Acts:
    """The act helper, on the same blob directory the app serves."""
    return Acts(build=build, settings=settings, store=build_blob_store(settings))


@pytest.fixture
def make_field(build: Builder) -> Callable[..., Any]:
    """Build a field: a new territory, a dispatcher, a technician on site."""

    async def make(status: str = "on_site", area: Area | None = None) -> Field:
        area = area or await build.area()
        dispatcher = await build.person(Role.DISPATCHER, area.territory)
        technician = await build.person(Role.TECHNICIAN, area.territory)
        assert technician.technician is not None
        order = await build.order(area, status="in_progress", type="installation")
        async with build.sessionmaker() as session:
            row = await session.get_one(WorkOrder, order.id)
            row.requested_services = ["Домашний интернет 500 Мбит/с"]
            row.equipment = [
                {"name": "ONT", "model": "HG8245H", "serial": "48575443ABCD", "unit": "шт"},
                {"name": "Кабель оптический", "quantity": 18.0, "unit": "м"},
            ]
            await session.commit()
            order = row
        start = datetime.now(UTC) - timedelta(hours=1)
        visit = await build.visit(order, technician.technician, start=start, status=status)
        return Field(area, dispatcher, technician, order, visit, random_tax_id())

    return make


@pytest.fixture
async def field(make_field: Callable[..., Any]) -> Field:
    """A technician on site at a visit."""
    return await make_field()  # type: ignore[no-any-return]
