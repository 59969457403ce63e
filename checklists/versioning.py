"""Published template versions: immutable, identified by key, version and content hash."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import msgspec

from checklists.compiled import CompiledTemplate, compile_template
from checklists.errors import PinMismatch, UnknownTemplate, VersionConflict
from checklists.hashing import content_hash
from checklists.schema import Template


class Pin(msgspec.Struct, frozen=True):
    """The template version a visit started with; stored with the visit."""

    key: str
    version: int
    content_hash: str


class TemplateSet:
    """Several versions per key; a (key, version) is bound to one content forever."""

    def __init__(self, templates: Iterable[Template | CompiledTemplate] = ()) -> None:
        self._versions: dict[str, dict[int, CompiledTemplate]] = {}
        for template in templates:
            self.add(template)

    def add(self, template: Template | CompiledTemplate) -> CompiledTemplate:
        """Register a published version; the same content again is a no-op.

        Raises VersionConflict if (key, version) already holds a different content,
        and TemplateError if the template is invalid.
        """
        compiled = (
            template if isinstance(template, CompiledTemplate) else compile_template(template)
        )
        versions = self._versions.setdefault(compiled.key, {})
        existing = versions.get(compiled.version)
        if existing is not None:
            if existing.content_hash != compiled.content_hash:
                raise VersionConflict(
                    f"{compiled.key} v{compiled.version} is already published with content "
                    f"{existing.content_hash[:12]}…; publish the change as a new version"
                )
            return existing
        versions[compiled.version] = compiled
        return compiled

    def publish(self, edited: Template) -> CompiledTemplate:
        """Publish an edited template as the next version of its key.

        The version number in `edited` is ignored. If the content equals the latest
        version, nothing is published and the latest version is returned.
        """
        versions = self._versions.get(edited.key)
        if not versions:
            return self.add(msgspec.structs.replace(edited, version=1))
        latest = versions[max(versions)]
        if content_hash(msgspec.structs.replace(edited, version=latest.version)) == (
            latest.content_hash
        ):
            return latest
        return self.add(msgspec.structs.replace(edited, version=latest.version + 1))

    def get(self, key: str, version: int | None = None) -> CompiledTemplate:
        """A given version of a key, or its latest; raises UnknownTemplate."""
        versions = self._versions.get(key)
        if not versions:
            raise UnknownTemplate(f"no template {key!r}")
        if version is None:
            return versions[max(versions)]
        try:
            return versions[version]
        except KeyError:
            raise UnknownTemplate(f"no template {key!r} version {version}") from None

    def pin(self, key: str, version: int | None = None) -> Pin:
        """The pin a new visit records (latest version unless one is given)."""
        compiled = self.get(key, version)
        return Pin(compiled.key, compiled.version, compiled.content_hash)

    def resolve(self, pin: Pin) -> CompiledTemplate:
        """The exact version a visit pinned; raises PinMismatch if its content changed."""
        compiled = self.get(pin.key, pin.version)
        if compiled.content_hash != pin.content_hash:
            raise PinMismatch(
                f"{pin.key} v{pin.version} has content {compiled.content_hash[:12]}…, "
                f"but the visit pinned {pin.content_hash[:12]}…"
            )
        return compiled

    def keys(self) -> tuple[str, ...]:
        """Template keys, sorted."""
        return tuple(sorted(self._versions))

    def versions(self, key: str) -> tuple[int, ...]:
        """Published version numbers of a key, ascending."""
        return tuple(sorted(self._versions.get(key, {})))

    def __iter__(self) -> Iterator[CompiledTemplate]:
        for key in self.keys():
            for version in self.versions(key):
                yield self._versions[key][version]

    def __len__(self) -> int:
        return sum(len(versions) for versions in self._versions.values())
