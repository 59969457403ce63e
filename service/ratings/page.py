"""The rating page's view model: every label in the customer's language (ru, kk, en); the
texts are English here, Russian and Kazakh in the naryad gettext catalogs."""

from __future__ import annotations

from typing import Any

from service.common.appeal_links import appeal_link
from service.common.i18n import Message, in_language, msg
from service.ratings.services import CONFIRMATIONS, RatingPage

# Kazakh texts await a native speaker's review, as the other customer-facing texts do.
_TEXTS: dict[str, Message] = {
    "title": msg("rating.title", "Rate the visit"),
    "hello": msg("rating.hello", "Hello, {name}!"),
    "hello_anonymous": msg("rating.hello_anonymous", "Hello!"),
    "visit": msg("rating.visit", "Work order {number} of {date}, technician {technician}."),
    "score": msg("rating.score", "Your rating from 1 to 5"),
    "seen": msg("rating.seen", "What you saw"),
    "id_shown": msg("rating.id_shown", "Did the technician show their company ID?"),
    "overshoes_on": msg(
        "rating.overshoes_on", "Did the technician put on overshoes when entering?"
    ),
    "service_demonstrated": msg(
        "rating.service_demonstrated",
        "Did the technician show you that the service works?",
    ),
    "area_clean": msg("rating.area_clean", "Was the work area left clean?"),
    "yes": msg("rating.yes", "Yes"),
    "no": msg("rating.no", "No"),
    "comment": msg("rating.comment", "Comment (optional)"),
    "submit": msg("rating.submit", "Send my rating"),
    "pick_score": msg("rating.pick_score", "Choose a rating from 1 to 5."),
    "thanks": msg("rating.thanks", "Thank you! Your rating has been received."),
    "apology": msg(
        "rating.apology",
        "We are sorry the visit fell short, and we apologise. We will call you "
        "by {date} {time} ({zone}) to put it right.",
    ),
    "used": msg("rating.used", "This visit has already been rated. Thank you!"),
    "expired": msg("rating.expired", "This link has expired."),
    "invalid": msg("rating.invalid", "This link is not valid."),
    "language": msg("rating.language", "Language"),
}
# The five scores' words, from 1 (worst) to 5.
_STARS: tuple[Message, ...] = (
    msg("rating.star.1", "very poor"),
    msg("rating.star.2", "poor"),
    msg("rating.star.3", "fair"),
    msg("rating.star.4", "good"),
    msg("rating.star.5", "excellent"),
)
# Under a dead link's message: whom to call.
_CONTACT = msg("rating.contact", "Contractor {name}, phone:")
LANGUAGE_NAMES = (("kk", "Қазақша"), ("ru", "Русский"), ("en", "English"))
STATUS_CODES = {"open": 200, "used": 409, "expired": 410, "invalid": 404}


def page_model(
    view: RatingPage, token: str, *, nonce: str = "", company: str = "", phone: str = ""
) -> dict[str, Any]:
    """Everything the template shows, already in the customer's language."""
    lang = view.language
    t = {key: in_language(texts, lang) for key, texts in _TEXTS.items()}
    t["contact"] = in_language(_CONTACT, lang).format(name=company)
    hello = (
        t["hello"].format(name=view.customer_first_name)
        if view.customer_first_name
        else t["hello_anonymous"]
    )
    return {
        "lang": lang,
        "nonce": nonce,
        "phone": phone,
        "phone_uri": "tel:" + "".join(ch for ch in phone if ch.isdigit() or ch == "+"),
        "state": view.state,
        "token": token,
        "t": t,
        "hello": hello,
        "visit": t["visit"].format(
            number=view.work_order_number,
            date=view.visit_date,
            technician=view.technician_first_name,
        ),
        "stars": [
            (n, f"{n} — {in_language(label, lang)}") for n, label in enumerate(_STARS, start=1)
        ],
        "questions": [(key, t[key]) for key in CONFIRMATIONS],
        "languages": LANGUAGE_NAMES,
        "appeal": appeal_link(lang, view.act_public_id or None),
        "message": {"used": t["used"], "expired": t["expired"], "invalid": t["invalid"]}.get(
            view.state, ""
        ),
    }
