"""Multipart bodies of the appeal endpoints: what Litestar's parser leaves to the handler.

A part without a filename arrives as text, decoded as UTF-8 by the parser: a "file" part sent
that way is a string (not an ``UploadFile``), and one whose bytes are not UTF-8 makes the parser
raise ``UnicodeDecodeError`` before the handler runs. Both are the client's fault: 422, nothing
stored.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.datastructures import UploadFile

from service.errors import FieldError, ValidationFailed, domain_error_handler


def _not_a_file() -> ValidationFailed:
    """The "file" part is not a file (no filename)."""
    return ValidationFailed(
        "The file part has no filename",
        errors=[FieldError(field="file", message="not a file")],
        code="bad_attachment",
    )


def uploaded(value: object) -> UploadFile | None:
    """The part as a file, or None when none was sent; a text part is refused."""
    if value is None:
        return None
    if not isinstance(value, UploadFile):
        raise _not_a_file()
    return value


def undecodable_part(request: Request[Any, Any, Any], exc: UnicodeDecodeError) -> Response[Any]:
    """A text part whose bytes are not UTF-8 (the parser's error, before the handler)."""
    return domain_error_handler(
        request,
        ValidationFailed(
            "A form field is not UTF-8 text",
            errors=[FieldError(field="form", message="not UTF-8 text")],
            code="invalid_form",
        ),
    )
