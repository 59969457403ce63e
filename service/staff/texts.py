"""Every text of the staff pages (layout, sign-in, dispatch) in ru, kk and en.

One table of (ru, kk, en) entries, the style of the board's texts, so a later move to gettext
catalogues is mechanical. Kazakh strings await a native speaker's review (the DOMAIN.md
glossary is followed where it has a term).
"""

from __future__ import annotations

from datetime import datetime

from service.common.i18n import LANGUAGES, Language, in_language

__all__ = ["LANGUAGES", "LANGUAGE_NAMES", "Language", "all_texts", "text"]

LANGUAGE_NAMES: dict[Language, str] = {"ru": "Русский", "kk": "Қазақша", "en": "English"}

# key: (ru, kk, en)
TEXTS: dict[str, tuple[str, str, str]] = {
    # Layout and navigation
    "brand": ("Наряд", "Наряд", "Naryad"),
    "nav_label": ("Разделы", "Бөлімдер", "Sections"),
    "nav_dispatch": ("Диспетчерская", "Диспетчерлік", "Dispatch"),
    "nav_board": ("Доска координатора", "Үйлестіруші тақтасы", "Coordinator board"),
    "language": ("Язык", "Тіл", "Language"),
    "signed_in_as": ("Вы вошли как", "Сіз кірдіңіз:", "Signed in as"),
    "sign_out": ("Выйти", "Шығу", "Sign out"),
    "skip_to_content": ("К содержанию", "Мазмұнға өту", "Skip to content"),
    # Sign-in
    "login_title": ("Вход для сотрудников", "Қызметкерлерге кіру", "Staff sign-in"),
    "login_hint": (
        "Войдите учётной записью диспетчера, координатора, руководителя или администратора.",
        "Диспетчер, үйлестіруші, басшы немесе әкімші есептік жазбасымен кіріңіз.",
        "Sign in with a dispatcher, coordinator, supervisor or administrator account.",
    ),
    "username": ("Имя пользователя", "Пайдаланушы аты", "Username"),
    "password": ("Пароль", "Құпиясөз", "Password"),
    "sign_in": ("Войти", "Кіру", "Sign in"),
    "wrong_credentials": (
        "Неверное имя пользователя или пароль.",
        "Пайдаланушы аты немесе құпиясөз қате.",
        "Wrong username or password.",
    ),
    "role_refused": (
        "Страницы сотрудников доступны только диспетчерам, координаторам, руководителям и "
        "администраторам.",
        "Қызметкерлер беттері тек диспетчерлерге, үйлестірушілерге, басшыларға және "
        "әкімшілерге қолжетімді.",
        "Staff pages are for dispatchers, coordinators, supervisors and administrators only.",
    ),
    "too_many_attempts": (
        "Слишком много неудачных попыток входа. Подождите немного и попробуйте снова.",
        "Кіру әрекеттері тым көп болды. Біраз күтіп, қайталап көріңіз.",
        "Too many failed sign-in attempts. Wait a little and try again.",
    ),
    "form_expired": (
        "Форма устарела. Обновите страницу и попробуйте ещё раз.",
        "Пішін ескірді. Бетті жаңартып, қайталап көріңіз.",
        "This form has expired. Reload the page and try again.",
    ),
    "session_expired": (
        "Сеанс истёк. Войдите снова — введённое на странице не сохранено.",
        "Сеанс аяқталды. Қайта кіріңіз — беттегі енгізілген мәліметтер сақталмады.",
        "Your session has expired. Sign in again; what you typed was not saved.",
    ),
    # Refusals
    "forbidden_title": ("Действие отклонено", "Әрекет қабылданбады", "Request refused"),
    "not_for_role_title": (
        "Раздел не для вашей роли",
        "Бұл бөлім сіздің рөліңізге емес",
        "Not for your role",
    ),
    "not_for_role": (
        "Этот раздел открыт другим ролям. Перейдите в свой раздел.",
        "Бұл бөлім басқа рөлдерге арналған. Өз бөліміңізге өтіңіз.",
        "This section is for other roles. Go to your own section.",
    ),
    "not_found_title": ("Не найдено", "Табылмады", "Not found"),
    "not_found": (
        "Такой записи нет или она вне ваших территорий.",
        "Мұндай жазба жоқ немесе ол сіздің аумақтарыңыздан тыс.",
        "There is no such record, or it is outside your territories.",
    ),
    "to_my_home": ("Перейти в мой раздел", "Өз бөлімімге өту", "Go to my section"),
    "technician_refused": (
        "Техники работают в мобильном приложении; страницы сотрудников им недоступны.",
        "Техниктер мобильді қосымшада жұмыс істейді; қызметкерлер беттері оларға қолжетімсіз.",
        "Technicians work in the mobile app; staff pages are not available to them.",
    ),
    "time_zone": ("Часовой пояс", "Уақыт белдеуі", "Time zone"),
}


def text(key: str, language: Language, **values: object) -> str:
    """One text in ``language``, with ``{name}`` placeholders filled from ``values``."""
    template = in_language(TEXTS[key], language)
    return template.format(**values) if values else template


def all_texts(language: Language) -> dict[str, str]:
    """Every text in ``language`` (templates look texts up by key)."""
    return {key: in_language(entry, language) for key, entry in TEXTS.items()}


def format_local(value: datetime, zone_key: str) -> str:
    """A zone-aware time as ``dd.mm.yyyy HH:MM`` followed by its zone, e.g. ``Asia/Almaty``."""
    return f"{value:%d.%m.%Y %H:%M} ({zone_key})"
