"""Why a pushed operation was not applied, in the technician's language.

A sync result carries a stable ``code`` (the phone's own catalog may know it) and a ``message``
for a person. Services raise their errors in English for logs and the staff API; the sync path
says the same thing again here, through the gettext catalogs, in the language the phone asked
for (Accept-Language). Codes from the checklist engine are not listed: the engine renders its
own messages in the requested language.
"""

from __future__ import annotations

from typing import get_args

from checklists import AnswerErrorCode
from service.common.i18n import Language, Message, in_language, msg
from service.errors import DomainError, FieldError

REASONS: dict[str, Message] = {
    "invalid_payload": msg(
        "sync.invalid_payload", "The app sent data the server does not accept ({detail})."
    ),
    "not_found": msg(
        "sync.not_found", "Not found among your visits: it may have been handed over or removed."
    ),
    "reassigned": msg("sync.reassigned", "The visit was handed to another technician."),
    "cancelled": msg("sync.cancelled", "The visit was cancelled."),
    "visit_closed": msg(
        "sync.visit_closed", "The visit is already closed: nothing more can be recorded on it."
    ),
    "not_planned": msg("sync.not_planned", "The visit is past this step: it is no longer planned."),
    "not_arrived": msg("sync.not_arrived", "Mark your arrival first."),
    "no_location": msg(
        "sync.no_location", "The arrival needs the phone's location: turn location on."
    ),
    "device_time": msg(
        "sync.device_time",
        "The phone's clock is more than a day ahead: set the right time and send again.",
    ),
    "id_reused": msg("sync.id_reused", "This operation's id was already used for other data."),
    "conflict": msg(
        "sync.conflict",
        "The operation collides with what is already recorded: refresh the day and try again.",
    ),
    "invalid_transition": msg("sync.invalid_transition", "The work order is in another state now."),
    "checklist_blocks_outcome": msg(
        "sync.checklist_blocks_outcome", "The checklist does not allow this outcome yet."
    ),
    "photo_not_confirmed": msg(
        "sync.photo_not_confirmed",
        "The photos must be uploaded and confirmed first (not yet: {photos}).",
    ),
    "not_uploaded": msg("sync.not_uploaded", "The photo was not uploaded yet."),
    "same_photo": msg("sync.same_photo", "A photo cannot replace itself."),
    "replacement_not_confirmed": msg(
        "sync.replacement_not_confirmed",
        "The new photo must be uploaded and confirmed before it replaces the old one.",
    ),
    "act_frozen": msg(
        "sync.act_frozen", "The act for this visit is drawn up: its photos can no longer change."
    ),
    "act_not_signed": msg(
        "sync.act_not_signed",
        "The customer has not signed the act yet: hand the phone to the customer to sign it.",
    ),
    "photo_pending": msg("sync.photo_pending", "The photo is still being uploaded."),
    "photo_stored": msg("sync.photo_stored", "The photo is already stored."),
    "photo_rejected": msg("sync.photo_rejected", "The server refused the photo: take it again."),
    "photo_expired": msg("sync.photo_expired", "The photo's upload expired: upload it again."),
    "photo_removed": msg("sync.photo_removed", "The photo was already removed."),
    "photo_replaced": msg("sync.photo_replaced", "The photo was already replaced."),
}
# The checklist engine's refusals of an answer: rendered by the engine in the language asked for.
ENGINE_CODES = frozenset(get_args(AnswerErrorCode))
# Any other code (none known today): the service's English detail, introduced in the language.
FALLBACK = msg("sync.refused", "The operation was refused: {detail}")


def reason(code: str, detail: str, errors: list[FieldError] | None, language: Language) -> str:
    """The message of a result with this code, in ``language``."""
    if code in ENGINE_CODES:
        return detail
    if code == "photo_not_confirmed":
        photos = ", ".join(e.message.rpartition(" ")[2] for e in errors or [])
        return in_language(REASONS[code], language).format(photos=photos)
    if code == "checklist_blocks_outcome":
        # The engine's blocking reasons, already in the language, say what is left to do.
        headline = in_language(REASONS[code], language)
        return " ".join([headline, *(e.message for e in errors or [])])
    if code in REASONS:
        return in_language(REASONS[code], language).format(detail=detail)
    return in_language(FALLBACK, language).format(detail=detail)


def localize(error: DomainError, language: Language) -> DomainError:
    """The error with its detail said again in ``language`` when its code has a text here (the
    phone's other calls, such as photo upload and confirm, refuse with the sync path's codes)."""
    if error.code is not None and error.code in REASONS:
        error.detail = reason(error.code, error.detail, error.errors, language)
    return error
