"""Errors the library raises, each carrying enough structure for a precise API response."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec


class TemplateIssue(msgspec.Struct, frozen=True, omit_defaults=True):
    """One problem in a template, located by file, line, JSON path, step and field."""

    path: str
    message: str
    file: str | None = None
    line: int | None = None
    step_id: str | None = None
    field: str | None = None

    def describe(self) -> str:
        """One line: file:line: path (step x) field: message."""
        where = self.file or "<template>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        parts = [f"{where}: {self.path}"]
        if self.step_id is not None:
            parts.append(f"(step {self.step_id})")
        if self.field is not None:
            parts.append(f"[{self.field}]")
        return " ".join(parts) + f": {self.message}"


class TemplateError(ValueError):
    """A template (or directory of templates) failed to load or validate."""

    def __init__(self, issues: Sequence[TemplateIssue]) -> None:
        self.issues = tuple(issues)
        super().__init__("\n".join(issue.describe() for issue in self.issues))


class AnswerRejected(ValueError):
    """An answer the engine will not accept; maps to a 422 for that one answer."""

    def __init__(self, code: str, step_id: str, message: str) -> None:
        super().__init__(f"{step_id}: {message}")
        self.code = code
        self.step_id = step_id
        self.message = message


class UnknownOutcome(ValueError):
    """The requested outcome is not defined by the template."""


class VersionConflict(ValueError):
    """A different content was offered under an already published (key, version)."""


class UnknownTemplate(LookupError):
    """No template with this key (and version) is registered."""


class PinMismatch(ValueError):
    """A visit's pinned content hash does not match the registered template version."""
