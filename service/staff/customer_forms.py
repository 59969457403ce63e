"""Customer and site forms of the dispatch pages: form fields to the API's schemas.

Pure functions: the form's strings are normalised (phones without spaces or dashes, decimal
commas in coordinates) and validated by the same msgspec schemas the JSON API uses, so the page
and the API accept exactly the same values. Errors come back per form field.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, TypeVar

import msgspec

from service.customers import schemas

T = TypeVar("T")

CUSTOMER_FIELDS = ("territory", "full_name", "phones", "preferred_language", "notes")
SITE_FIELDS = ("address", "lat", "lon", "access_notes")
_PATH = re.compile(r"`\$\.([a-z_]+)")
# Schema fields to form fields (the site's point is two inputs).
_FORM_FIELD = {"territory_id": "territory", "location": "lat"}


def national_digits(digits: str) -> str:
    """A whole number dialled with the Kazakh/Russian trunk prefix (8 701 ...) as its +7 701 ...
    digits; any other digits as they are. Stored phones and phone searches share this rule."""
    return "7" + digits[1:] if len(digits) == 11 and digits.startswith("8") else digits


def normalise_phone(value: str) -> str:
    """A phone as typed (``+7 701 123-45-67``, ``8 (701) ...``) in E.164 where obvious."""
    digits = re.sub(r"[\s()\-.]", "", value)
    national = national_digits(digits) if digits.isdigit() else digits
    return "+" + national if national != digits else digits


def phones_of(text: str) -> list[str]:
    """The phones of a comma- or newline-separated field."""
    return [normalise_phone(p) for p in re.split(r"[,;\n]", text) if p.strip()]


def _number(text: str) -> float | str:
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return text  # the schema refuses it, naming the field


def _convert(raw: dict[str, Any], kind: type[T]) -> tuple[T | None, dict[str, str]]:
    try:
        return msgspec.convert(raw, kind), {}
    except msgspec.ValidationError as exc:
        match = _PATH.search(str(exc))
        name = match[1] if match else "form"
        return None, {_FORM_FIELD.get(name, name): str(exc)}


def customer_create(values: dict[str, str]) -> tuple[schemas.CustomerCreate | None, dict[str, str]]:
    """A new customer from the form, or the fields in error."""
    raw: dict[str, Any] = {
        "territory_id": values.get("territory", ""),
        "full_name": values.get("full_name", "").strip(),
        "phones": phones_of(values.get("phones", "")),
        "preferred_language": values.get("preferred_language", "ru"),
        "notes": values.get("notes", "").strip() or None,
    }
    try:
        uuid.UUID(raw["territory_id"])
    except ValueError:
        return None, {"territory": "required"}
    return _convert(raw, schemas.CustomerCreate)


def customer_update(values: dict[str, str]) -> tuple[schemas.CustomerUpdate | None, dict[str, str]]:
    """The customer's changed details from the form, or the fields in error."""
    raw: dict[str, Any] = {
        "full_name": values.get("full_name", "").strip(),
        "phones": phones_of(values.get("phones", "")),
        "preferred_language": values.get("preferred_language", "ru"),
        "notes": values.get("notes", "").strip() or None,
    }
    return _convert(raw, schemas.CustomerUpdate)


def site_fields(values: dict[str, str]) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Address, point and access notes of a site form, checked; or the fields in error."""
    raw: dict[str, Any] = {
        "address": values.get("address", "").strip(),
        "location": {"lat": _number(values.get("lat", "")), "lon": _number(values.get("lon", ""))},
        "access_notes": values.get("access_notes", "").strip() or None,
    }
    checked, errors = _convert(raw, schemas.SiteUpdate)
    if checked is None:
        if "location" in str(errors) or "lat" in errors:
            return None, {"lat": errors.get("lat", "invalid")}
        return None, errors
    return raw, {}
