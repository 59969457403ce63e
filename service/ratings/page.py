"""The rating page's view model: every label in the customer's language (ru, kk, en)."""

from __future__ import annotations

from typing import Any

from service.common.i18n import Language, in_language
from service.ratings.services import CONFIRMATIONS, RatingPage

# Kazakh texts await a native speaker's review, as the other customer-facing texts do.
_TEXTS: dict[str, tuple[str, str, str]] = {
    "title": ("Оцените визит специалиста", "Маманның келуін бағалаңыз", "Rate the visit"),
    "hello": ("Здравствуйте, {name}!", "Сәлеметсіз бе, {name}!", "Hello, {name}!"),
    "hello_anonymous": ("Здравствуйте!", "Сәлеметсіз бе!", "Hello!"),
    "visit": (
        "Наряд {number} от {date}, специалист {technician}.",
        "{date} күнгі {number} тапсырысы, маман {technician}.",
        "Work order {number} of {date}, technician {technician}.",
    ),
    "score": ("Ваша оценка от 1 до 5", "Бағаңыз 1-ден 5-ке дейін", "Your rating from 1 to 5"),
    "seen": ("Что Вы видели", "Сіз не көрдіңіз", "What you saw"),
    "id_shown": (
        "Специалист показал служебное удостоверение?",
        "Маман қызметтік куәлігін көрсетті ме?",
        "Did the technician show their company ID?",
    ),
    "overshoes_on": (
        "Специалист надел бахилы, когда вошёл?",
        "Маман кірген кезде бахила киді ме?",
        "Did the technician put on overshoes when entering?",
    ),
    "service_demonstrated": (
        "Специалист показал, что услуга работает?",
        "Маман қызметтің жұмыс істейтінін көрсетті ме?",
        "Did the technician show you that the service works?",
    ),
    "area_clean": (
        "После работы было чисто?",
        "Жұмыстан кейін орын таза қалды ма?",
        "Was the work area left clean?",
    ),
    "yes": ("Да", "Иә", "Yes"),
    "no": ("Нет", "Жоқ", "No"),
    "comment": ("Комментарий (необязательно)", "Пікіріңіз (міндетті емес)", "Comment (optional)"),
    "submit": ("Отправить оценку", "Бағаны жіберу", "Send my rating"),
    "pick_score": (
        "Выберите оценку от 1 до 5.",
        "1-ден 5-ке дейін баға таңдаңыз.",
        "Choose a rating from 1 to 5.",
    ),
    "thanks": (
        "Спасибо! Ваша оценка принята.",
        "Рахмет! Бағаңыз қабылданды.",
        "Thank you! Your rating has been received.",
    ),
    "apology": (
        "Нам очень жаль, что визит Вас не устроил. Приносим извинения. "
        "Мы позвоним Вам до {date} {time} ({zone}), чтобы всё исправить.",
        "Келу сізге ұнамағанына өкінеміз, кешірім сұраймыз. "
        "Барлығын түзету үшін {date} {time} ({zone}) дейін сізге хабарласамыз.",
        "We are sorry the visit fell short, and we apologise. "
        "We will call you by {date} {time} ({zone}) to put it right.",
    ),
    "used": (
        "По этому визиту оценка уже получена. Спасибо!",
        "Бұл келу бойынша баға бұрын алынған. Рахмет!",
        "This visit has already been rated. Thank you!",
    ),
    "expired": (
        "Срок действия ссылки истёк.",
        "Сілтеменің мерзімі өтті.",
        "This link has expired.",
    ),
    "invalid": ("Ссылка недействительна.", "Сілтеме жарамсыз.", "This link is not valid."),
    "language": ("Язык", "Тіл", "Language"),
}
_STARS: dict[Language, tuple[str, ...]] = {
    "ru": ("очень плохо", "плохо", "удовлетворительно", "хорошо", "отлично"),
    "kk": ("өте нашар", "нашар", "қанағаттанарлық", "жақсы", "өте жақсы"),
    "en": ("very poor", "poor", "fair", "good", "excellent"),
}
# Under a dead link's message: whom to call.
_CONTACT = (
    "Телефон исполнителя {name}:",
    "Орындаушы {name} телефоны:",
    "Contractor {name}, phone:",
)
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
        "stars": [(n, f"{n} — {label}") for n, label in enumerate(_STARS[lang], start=1)],
        "questions": [(key, t[key]) for key in CONFIRMATIONS],
        "languages": LANGUAGE_NAMES,
        "message": {"used": t["used"], "expired": t["expired"], "invalid": t["invalid"]}.get(
            view.state, ""
        ),
    }
