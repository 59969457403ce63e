"""Finding the translatable texts of a template, e.g. the Kazakh still awaiting review."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

from checklists.schema import Template, Text


def iter_texts(template: Template) -> Iterator[tuple[str, Text]]:
    """Every Text in the template with its JSON path, in document order."""
    yield from _walk(template, "$")


def _walk(node: object, path: str) -> Iterator[tuple[str, Text]]:
    if isinstance(node, Text):
        yield path, node
    elif isinstance(node, msgspec.Struct):
        for name in node.__struct_fields__:
            yield from _walk(getattr(node, name), f"{path}.{name}")
    elif isinstance(node, tuple):
        for index, item in enumerate(node):
            yield from _walk(item, f"{path}[{index}]")


def needs_native_review(template: Template) -> list[str]:
    """JSON paths of texts whose Kazakh has not been checked by a native speaker."""
    return [path for path, text in iter_texts(template) if not text.kk_reviewed]
