"""The link to the public appeal form that customer pages carry (act copy, rating, verify).

Opened from an act's page it carries the act's public id (``?act=``), which ties the appeal to
the visit, order, customer and territory; it always carries the page's language.
"""

from __future__ import annotations

from urllib.parse import urlencode

import msgspec

from service.common.i18n import Language, in_language, msg

_TEXT = msg("appeal.link", "A question or a complaint? Write to us")


class AppealLink(msgspec.Struct, frozen=True):
    """Where the form is and what the link says, in the page's language."""

    url: str
    text: str


def appeal_link(language: Language, act_public_id: str | None = None) -> AppealLink:
    """The form's link for a customer page in ``language``, tied to an act when known."""
    query = {"lang": language, **({"act": act_public_id} if act_public_id else {})}
    return AppealLink(url=f"/appeal?{urlencode(query)}", text=in_language(_TEXT, language))
