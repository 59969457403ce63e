"""Errors raised by the reports library: every one is a `ReportError`, never a broken PDF."""

from __future__ import annotations


class ReportError(Exception):
    """Base class of every error the reports library raises on purpose."""


class InvalidSnapshot(ReportError, ValueError):
    """The act snapshot (or its JSON) does not match the schema; `field` names the culprit."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidSignature(ReportError, ValueError):
    """A signature does not fit the act: wrong document hash, duplicate role, bad data."""


class InvalidAsset(ReportError, ValueError):
    """An image referenced by the act cannot be used; `sha256` and `used_by` name it."""

    def __init__(self, message: str, *, sha256: str, used_by: str) -> None:
        super().__init__(message)
        self.sha256 = sha256
        self.used_by = used_by


class AssetMissing(InvalidAsset):
    """The snapshot references an image whose bytes were not supplied."""


class AssetHashMismatch(InvalidAsset):
    """The supplied bytes do not hash to the SHA-256 they are filed under."""


class AssetTooLarge(InvalidAsset):
    """The image file (or its pixel count) is over the limit."""


class AssetNotImage(InvalidAsset):
    """The bytes are not a JPEG, PNG or WebP image that can be decoded."""


class UnsupportedCharacter(ReportError, ValueError):
    """A text field holds a character the embedded font has no glyph for."""

    def __init__(self, field: str, character: str, font_name: str) -> None:
        code_point = f"U+{ord(character):04X}"
        super().__init__(
            f"{field} contains {code_point} ({character!r}), which {font_name} cannot render"
        )
        self.field = field
        self.code_point = code_point
        self.character = character


class FontNotFound(ReportError, FileNotFoundError):
    """The DejaVu TrueType fonts are not installed (or not in the given directory)."""


class SealError(ReportError):
    """The PDF could not be sealed: unreadable PKCS#12, wrong passphrase, unreadable PDF."""
