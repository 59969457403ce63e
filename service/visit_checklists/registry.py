"""Published template versions in the database, compiled once per process."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from checklists import (
    CompiledTemplate,
    Pin,
    Template,
    TemplateSet,
    UnknownTemplate,
    VersionConflict,
    canonical_json,
    content_hash,
    load_templates,
)
from service.db.models import ChecklistTemplate
from service.technicians import feed

# Contents of the given key@version pins, as text (the jsonb's own compact rendering).
_TEMPLATE_CONTENT = """
SELECT key, version, content::text FROM checklist_templates
WHERE (key, version) IN (SELECT * FROM unnest($1::text[], $2::int[]))
"""


class TemplateRegistry:
    """Reads published versions from the database and keeps them compiled in memory.

    Versions are immutable (a trigger refuses changes), so a cached version never goes stale;
    only "which version is the latest" is asked of the database each time a visit pins.
    """

    def __init__(self) -> None:
        self._cache = TemplateSet()
        # Contents as the day bundle sends them, encoded once per key@version.
        self._encoded: dict[tuple[str, int], msgspec.Raw] = {}

    async def encoded(
        self, connection: asyncpg.Connection[Any], pins: Iterable[tuple[str, int]]
    ) -> dict[str, msgspec.Raw]:
        """Template contents by "key@version" in key order, as JSON bytes, from memory.

        Versions not yet in memory are read on the request's asyncpg connection (raw SQL: the
        day bundle's reads run outside an ORM session)."""
        wanted = sorted(set(pins))
        missing = [pin for pin in wanted if pin not in self._encoded]
        if missing:
            rows = await connection.fetch(
                _TEMPLATE_CONTENT, [key for key, _ in missing], [version for _, version in missing]
            )
            for key, version, content in rows:
                # Compact, in the key order jsonb keeps: the bytes the ORM path produced.
                self._encoded[(key, version)] = msgspec.Raw(
                    msgspec.json.encode(msgspec.json.decode(content))
                )
        return {f"{key}@{version}": self._encoded[(key, version)] for key, version in wanted}

    async def latest_pin(self, session: AsyncSession, key: str) -> Pin:
        """The newest published version of ``key``."""
        row = (
            await session.execute(
                select(ChecklistTemplate.version, ChecklistTemplate.content_hash)
                .where(ChecklistTemplate.key == key)
                .order_by(ChecklistTemplate.version.desc())
                .limit(1)
            )
        ).first()
        if row is None:
            raise UnknownTemplate(f"no published checklist for {key!r}")
        return Pin(key=key, version=row[0], content_hash=row[1])

    async def resolve(self, session: AsyncSession, pin: Pin) -> CompiledTemplate:
        """The pinned version, from memory or the database."""
        try:
            return self._cache.resolve(pin)
        except UnknownTemplate:
            pass
        row = await session.get(ChecklistTemplate, (pin.key, pin.version))
        if row is None:
            raise UnknownTemplate(f"{pin.key} v{pin.version} is not published")
        template = msgspec.convert(row.content, Template)
        if content_hash(template) != row.content_hash:
            raise VersionConflict(f"stored {pin.key} v{pin.version} does not match its hash")
        self._cache.add(template)
        return self._cache.resolve(pin)


async def publish(session: AsyncSession, directory: Path | None = None) -> list[str]:
    """Store every template file's version that is not published yet; report what happened.

    A file whose (key, version) is published with other content is refused: edits must carry
    a new version number.
    """
    report = []
    for template in _all(load_templates(directory)):
        digest = content_hash(template)
        existing = await session.get(ChecklistTemplate, (template.key, template.version))
        if existing is not None:
            if existing.content_hash != digest:
                raise VersionConflict(
                    f"{template.key} v{template.version} is already published with other "
                    "content; publish the edit as a new version"
                )
            report.append(f"unchanged {template.key} v{template.version}")
            continue
        session.add(
            ChecklistTemplate(
                key=template.key,
                version=template.version,
                content_hash=digest,
                content=msgspec.json.decode(canonical_json(template)),
            )
        )
        report.append(f"published {template.key} v{template.version} sha256:{digest[:12]}")
    if any(line.startswith("published") for line in report):
        await feed.broadcast(session, "template.published")
    await session.flush()
    return report


def _all(templates: TemplateSet) -> list[Template]:
    return [compiled.template for compiled in templates]
