"""Gapless act numbers per issuer, kind and year: ``АВР-2026-000123``, ``АСП-2026-000045``.

The counter row is bumped with ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` inside the
caller's transaction. The row stays locked until that transaction ends, so concurrent acts of
one issuer and year queue behind each other, and a rolled-back act gives its number back:
the series has no gaps. A sequence would be faster but leaves a gap at every rollback.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from service.settings import IssuerSettings

SEQUENCE_DIGITS = 6

_NEXT = text(
    """
    INSERT INTO act_number_counters (issuer_tax_id, kind, year, last_value)
    VALUES (:issuer, :kind, :year, 1)
    ON CONFLICT (issuer_tax_id, kind, year)
    DO UPDATE SET last_value = act_number_counters.last_value + 1
    RETURNING last_value
    """
)


@dataclass(frozen=True, slots=True)
class ActNumber:
    """One issued number: its place in the series and how it is printed."""

    issuer_tax_id: str
    kind: str
    year: int
    sequence: int
    text: str


def prefix_for(issuer: IssuerSettings, kind: str) -> str:
    """The configured prefix of a kind of act."""
    return issuer.handover_prefix if kind == "handover" else issuer.completion_prefix


def format_number(prefix: str, year: int, sequence: int) -> str:
    """``<prefix>-<year>-<sequence, zero-padded to six digits>``."""
    return f"{prefix}-{year:04d}-{sequence:0{SEQUENCE_DIGITS}d}"


async def next_number(
    session: AsyncSession, *, issuer_tax_id: str, prefix: str, kind: str, year: int
) -> ActNumber:
    """Take the next number of the issuer's series for this kind and year."""
    sequence = await session.scalar(_NEXT, {"issuer": issuer_tax_id, "kind": kind, "year": year})
    assert sequence is not None
    return ActNumber(
        issuer_tax_id=issuer_tax_id,
        kind=kind,
        year=year,
        sequence=int(sequence),
        text=format_number(prefix, year, int(sequence)),
    )
