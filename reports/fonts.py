"""Finding and registering the DejaVu Sans TrueType fonts, and checking text against them."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from reports.errors import FontNotFound, UnsupportedCharacter

REGULAR_FILE = "DejaVuSans.ttf"
BOLD_FILE = "DejaVuSans-Bold.ttf"
FONT_DISPLAY_NAME = "DejaVu Sans"
FONT_PACKAGES = "fonts-dejavu-core (and fonts-dejavu-extra)"

# Where distributions put DejaVu: Debian/Ubuntu, Fedora, Arch, Alpine, macOS (Homebrew casks).
FONT_SEARCH_DIRS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu-sans-fonts"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/share/fonts/ttf-dejavu"),
    Path("/usr/local/share/fonts"),
    Path("/Library/Fonts"),
)

# Line breaks and tabs are layout, not glyphs: the renderer turns them into breaks and spaces.
_LAYOUT_CHARACTERS = frozenset({ord("\n"), ord("\t")})


@dataclass(frozen=True)
class FontSet:
    """Registered reportlab font names plus the characters both faces can draw."""

    regular: str
    bold: str
    directory: Path
    covered: frozenset[int]

    def check_text(self, field: str, text: str) -> None:
        """Raise `UnsupportedCharacter` naming `field` if `text` has a glyph-less character."""
        for character in text:
            if ord(character) not in self.covered:
                raise UnsupportedCharacter(field, character, FONT_DISPLAY_NAME)

    def check_all(self, value: Any, path: str) -> None:
        """`check_text` on every string of a builtins tree (dicts, lists), named by its path."""
        for field, text in _strings(value, path):
            self.check_text(field, text)

    def printable(self, text: str) -> str:
        """`text` with every character the font cannot draw replaced by U+FFFD (or "?")."""
        if all(ord(character) in self.covered for character in text):
            return text
        mark = "\ufffd" if 0xFFFD in self.covered else "?"
        return "".join(c if ord(c) in self.covered else mark for c in text)


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


_registered: dict[Path, FontSet] = {}
_lock = threading.Lock()


def load_fonts(font_dir: str | Path | None = None) -> FontSet:
    """Find DejaVu Sans (regular + bold), register it with reportlab once, and return it."""
    directory = find_font_dir(font_dir)
    with _lock:
        cached = _registered.get(directory)
        if cached is not None:
            return cached
        font_set = _register(directory)
        _registered[directory] = font_set
        return font_set


def find_font_dir(font_dir: str | Path | None = None) -> Path:
    """The directory holding both DejaVu files: `font_dir` if given, else the search list."""
    candidates = [Path(font_dir)] if font_dir is not None else list(FONT_SEARCH_DIRS)
    for candidate in candidates:
        if (candidate / REGULAR_FILE).is_file() and (candidate / BOLD_FILE).is_file():
            return candidate.resolve()
    searched = ", ".join(str(path) for path in candidates)
    raise FontNotFound(
        f"{REGULAR_FILE} and {BOLD_FILE} not found in {searched}; install the Debian package "
        f"{FONT_PACKAGES} (apt-get install fonts-dejavu-core) or pass font_dir="
    )


def _register(directory: Path) -> FontSet:
    # reportlab's font registry is global; a per-directory suffix keeps two font_dirs apart.
    suffix = hashlib.sha256(str(directory).encode()).hexdigest()[:8]
    regular = TTFont(f"NaryadSans-{suffix}", str(directory / REGULAR_FILE))
    bold = TTFont(f"NaryadSans-Bold-{suffix}", str(directory / BOLD_FILE))
    for font in (regular, bold):
        pdfmetrics.registerFont(font)
    pdfmetrics.registerFontFamily(
        regular.fontName,
        normal=regular.fontName,
        bold=bold.fontName,
        italic=regular.fontName,
        boldItalic=bold.fontName,
    )
    covered = frozenset(_code_points(regular) & _code_points(bold)) | _LAYOUT_CHARACTERS
    return FontSet(
        regular=regular.fontName, bold=bold.fontName, directory=directory, covered=covered
    )


def _code_points(font: TTFont) -> set[int]:
    return set(_iter_code_points(font))


def _iter_code_points(font: TTFont) -> Iterator[int]:
    # charToGlyph is the TTF's cmap; code points mapped to glyph 0 (.notdef) draw nothing,
    # and control characters map to invisible glyphs that would hide text from the reader.
    for code_point, glyph in font.face.charToGlyph.items():
        if glyph and not _is_control(int(code_point)):
            yield int(code_point)


def _is_control(code_point: int) -> bool:
    return code_point < 0x20 or 0x7F <= code_point <= 0x9F
