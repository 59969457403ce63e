"""The coordinator board's texts in ru, kk and en, and language-aware formatting.

Kazakh strings await a native speaker's review (the DOMAIN.md glossary is followed where it
has a term); a ``# NATIVE REVIEW`` note marks wordings we are least sure of.
"""

from __future__ import annotations

from datetime import datetime

from service.common.i18n import LANGUAGES, in_language, pick_language
from service.common.i18n import Language as BoardLanguage

__all__ = ["LANGUAGES", "LANGUAGE_NAMES", "BoardLanguage", "pick_language"]

LANGUAGE_NAMES: dict[BoardLanguage, str] = {"ru": "Русский", "kk": "Қазақша", "en": "English"}

# key: (ru, kk, en)
TEXTS: dict[str, tuple[str, str, str]] = {
    "brand": ("Наряд", "Наряд", "Naryad"),
    "board": ("Доска координатора", "Үйлестіруші тақтасы", "Coordinator board"),
    "login_title": ("Вход для координаторов", "Үйлестірушілерге кіру", "Coordinator sign-in"),
    "login_hint": (
        "Войдите учётной записью координатора, диспетчера или руководителя.",
        "Үйлестіруші, диспетчер немесе басшы есептік жазбасымен кіріңіз.",
        "Sign in with a coordinator, dispatcher or supervisor account.",
    ),
    "username": ("Имя пользователя", "Пайдаланушы аты", "Username"),
    "password": ("Пароль", "Құпиясөз", "Password"),
    "language": ("Язык", "Тіл", "Language"),
    "sign_in": ("Войти", "Кіру", "Sign in"),
    "sign_out": ("Выйти", "Шығу", "Sign out"),
    "wrong_credentials": (
        "Неверное имя пользователя или пароль.",
        "Пайдаланушы аты немесе құпиясөз қате.",
        "Wrong username or password.",
    ),
    "role_refused": (
        "Доска доступна только координаторам, диспетчерам, руководителям и администраторам.",
        "Тақта тек үйлестірушілерге, диспетчерлерге, басшыларға және әкімшілерге қолжетімді.",
        "The board is for coordinators, dispatchers, supervisors and administrators only.",
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
    "forbidden_title": ("Действие отклонено", "Әрекет қабылданбады", "Request refused"),
    "back_to_board": ("Вернуться к доске", "Тақтаға оралу", "Back to the board"),
    "as_of": ("Данные на", "Деректер уақыты", "As of"),
    "auto_refresh": (
        "Обновляется автоматически каждую минуту",
        "Әр минут сайын автоматты түрде жаңарады",
        "Refreshes every minute",
    ),
    "refresh_now": ("Обновить", "Жаңарту", "Refresh"),
    "signed_in_as": ("Вы вошли как", "Сіз кірдіңіз:", "Signed in as"),
    # -- buckets
    "buckets_title": ("Контрольные сроки", "Бақылау мерзімдері", "Control deadlines"),
    "bucket.due_2h": ("Срок в ближайшие 2 ч", "2 сағат ішінде мерзімі", "Due within 2 h"),
    "bucket.overdue_0_4h": ("Просрочено до 4 ч", "4 сағатқа дейін кешікті", "Overdue 0–4 h"),
    "bucket.overdue_4_24h": ("Просрочено 4–24 ч", "4–24 сағат кешікті", "Overdue 4–24 h"),
    "bucket.overdue_1_3d": ("Просрочено 1–3 дня", "1–3 күн кешікті", "Overdue 1–3 days"),
    "bucket.overdue_3d_plus": (
        "Просрочено более 3 дней",
        "3 күннен астам кешікті",
        "Overdue over 3 days",
    ),
    "total": ("Всего", "Барлығы", "Total"),
    "show_bucket": ("Показать только эти", "Тек осыларды көрсету", "Show only these"),
    # -- KPIs
    "kpis_title": ("Показатели за {month}", "{month} көрсеткіштері", "Figures for {month}"),
    "kpi.on_time": ("Приезд вовремя", "Уақытында келу", "On-time arrival"),
    "kpi.on_time_base": (
        "{part} из {whole} приездов",
        "{whole} келудің {part}",
        "{part} of {whole} arrivals",
    ),
    "kpi.first_visit": (
        "Решено с первого визита",
        "Бірінші келуде шешілді",
        "First-visit resolution",
    ),
    "kpi.first_visit_base": (
        "{part} из {whole} выполненных",
        "{whole} орындалғанның {part}",
        "{part} of {whole} completed",
    ),
    "kpi.no_access": ("Нет доступа", "Кіру мүмкін болмады", "No-access rate"),
    "kpi.no_access_base": (
        "{part} из {whole} визитов",
        "{whole} келудің {part}",
        "{part} of {whole} visits",
    ),
    "kpi.deadlines": ("Соблюдение сроков", "Мерзімдердің сақталуы", "Deadline compliance"),
    "kpi.deadlines_base": (
        "{part} из {whole} контрольных сроков",
        "{whole} бақылау мерзімінің {part}",
        "{part} of {whole} control deadlines met",
    ),
    "kpi.rating": ("Средняя оценка", "Орташа баға", "Average rating"),
    "kpi.rating_base": ("оценок: {whole}", "бағалар: {whole}", "{whole} ratings"),
    "kpi.overdue": ("Доля просроченных", "Кешіктірілгендер үлесі", "Overdue share"),
    "kpi.overdue_base": (
        "{part} из {whole} открытых",
        "{whole} ашықтың {part}",
        "{part} of {whole} open orders",
    ),
    "no_data": ("нет данных", "дерек жоқ", "no data"),
    # -- filters and list
    "overdue_title": (
        "Просроченные и срочные наряды",
        "Кешіккен және шұғыл тапсырыстар",
        "Overdue and due-soon orders",
    ),
    "filters": ("Фильтры", "Сүзгілер", "Filters"),
    "territory": ("Территория", "Аумақ", "Territory"),
    "type": ("Тип работ", "Жұмыс түрі", "Work type"),
    "priority": ("Приоритет", "Басымдық", "Priority"),
    "bucket": ("Срок", "Мерзім", "Deadline bucket"),
    "technician": ("Монтёр", "Маман", "Technician"),
    "any": ("Все", "Барлығы", "Any"),
    "apply": ("Применить", "Қолдану", "Apply"),
    "reset": ("Сбросить", "Тазалау", "Reset"),
    "next_page": ("Следующая страница", "Келесі бет", "Next page"),
    "first_page": ("К началу списка", "Тізімнің басына", "Back to the first page"),
    "nothing_overdue": (
        "Просроченных и срочных нарядов нет.",
        "Кешіккен және шұғыл тапсырыстар жоқ.",
        "Nothing is overdue or due soon.",
    ),
    "col.number": ("Наряд", "Тапсырыс", "Order"),
    "col.territory": ("Территория", "Аумақ", "Territory"),
    "col.type": ("Тип · приоритет", "Түрі · басымдығы", "Type · priority"),
    "col.deadline": ("Контрольный срок", "Бақылау мерзімі", "Control deadline"),
    "col.reason": ("Причина", "Себебі", "Reason"),
    "col.last_event": ("Последнее событие", "Соңғы оқиға", "Last event"),
    "col.owner": ("Ответственный", "Жауапты", "Owner"),
    "col.technician": ("Монтёр", "Маман", "Technician"),
    "col.contacts": ("Контакты с клиентом", "Тапсырыс берушімен байланыс", "Customer contacts"),
    "overdue_by": ("просрочено на {span}", "{span} кешікті", "{span} overdue"),
    "due_in": ("осталось {span}", "{span} қалды", "due in {span}"),
    "hours_minutes": ("{h} ч {m} мин", "{h} сағ {m} мин", "{h} h {m} min"),
    "minutes": ("{m} мин", "{m} мин", "{m} min"),
    "days_hours": ("{d} дн {h} ч", "{d} күн {h} сағ", "{d} d {h} h"),
    "not_assigned": ("не назначен", "тағайындалмаған", "not assigned"),
    "local_time_note": (
        "Время — местное время территории.",
        "Уақыт — аумақтың жергілікті уақыты.",
        "Times are the territory's local time.",
    ),
    "zone_many": (
        "Территории в разных часовых поясах: у каждого времени указан его пояс.",
        "Аумақтар әртүрлі уақыт белдеуінде: әр уақыттың белдеуі көрсетілген.",
        "Territories span several time zones: each time names its zone.",
    ),
    # -- safety incidents (004 §5.4.10.5)
    "incidents_title": (
        "Угроза безопасности: специалист покинул объект",
        "Қауіпсіздікке қатер: маман нысаннан кетті",
        "Safety incidents: a technician left the site",
    ),
    "incident.safety": ("Угроза безопасности", "Қауіпсіздікке қатер", "Safety threat"),
    "incident_pending": ("Не подтверждено", "Расталмаған", "Not acknowledged"),
    "incident_done": ("Подтверждено", "Расталды", "Acknowledged"),
    "incident_at": ("Когда", "Қашан", "When"),
    "incident_technician": ("Специалист", "Маман", "Technician"),
    "incident_reason": ("Со слов специалиста", "Маманның сөзі бойынша", "Technician's words"),
    "incident_told": ("Сообщено", "Хабарланды", "Told"),
    "told.supervisor": ("руководителям", "басшыларға", "supervisors"),
    "told.security": ("службе безопасности", "қауіпсіздік қызметіне", "security desk"),
    "incident_acknowledged_by": ("Подтверждено", "Расталды", "Acknowledged"),
    "incident_comment_hint": (
        "Что сделано: связались со специалистом, он в безопасности, дальнейшие шаги",
        "Не істелді: маманмен байланыстық, ол қауіпсіз, келесі қадамдар",
        "What was done: reached the technician, they are safe, next steps",
    ),
    "incident_comment_required": (
        "Напишите комментарий: без него инцидент подтвердить нельзя.",
        "Түсініктеме жазыңыз: онсыз оқиғаны растау мүмкін емес.",
        "Write a comment: an incident cannot be acknowledged without one.",
    ),
    "incident_acknowledged": (
        "Инцидент подтверждён.",
        "Оқиға расталды.",
        "Incident acknowledged.",
    ),
    "incident_gone": (
        "Инцидент уже подтверждён или недоступен.",
        "Оқиға бұрын расталған немесе қолжетімсіз.",
        "This incident is already acknowledged or no longer available.",
    ),
    # -- escalations
    "escalations_title": (
        "Эскалации, ожидающие подтверждения",
        "Растауды күтіп тұрған эскалациялар",
        "Escalations awaiting acknowledgement",
    ),
    "no_escalations": (
        "Неподтверждённых эскалаций нет.",
        "Расталмаған эскалациялар жоқ.",
        "No escalations are waiting.",
    ),
    "escalations_unavailable": (
        "Эскалации пока недоступны.",
        "Эскалациялар әзірге қолжетімсіз.",
        "Escalations are not available yet.",
    ),
    "raised_at": ("Создана", "Құрылды", "Raised"),
    "due_at": ("Срок", "Мерзімі", "Due"),
    "comment": ("Комментарий", "Түсініктеме", "Comment"),
    "comment_hint": (
        "Что сделано: звонок клиенту, новый срок, исполнитель",
        "Не істелді: тапсырыс берушіге қоңырау, жаңа мерзім, орындаушы",
        "What was done: customer called, new date, who is on it",
    ),
    "acknowledge": ("Подтвердить", "Растау", "Acknowledge"),
    "comment_required": (
        "Напишите комментарий: без него эскалацию подтвердить нельзя.",
        "Түсініктеме жазыңыз: онсыз эскалацияны растау мүмкін емес.",
        "Write a comment: an escalation cannot be acknowledged without one.",
    ),
    "comment_too_long": (
        "Комментарий слишком длинный: не более 2000 символов.",
        "Түсініктеме тым ұзын: 2000 таңбадан аспауы керек.",
        "The comment is too long: 2000 characters at most.",
    ),
    "acknowledged": ("Эскалация подтверждена.", "Эскалация расталды.", "Escalation acknowledged."),
    "escalation_gone": (
        "Эскалация уже подтверждена или недоступна.",
        "Эскалация бұрын расталған немесе қолжетімсіз.",
        "This escalation is already acknowledged or no longer available.",
    ),
    "level.warning": ("Предупреждение", "Ескерту", "Warning"),
    "level.breach": ("Срок нарушен", "Мерзім бұзылды", "Breach"),
    "level.head": ("Руководителю", "Басшыға", "To the head of unit"),
    "target.response": ("Согласование визита", "Келуді келісу", "Response"),
    "target.arrival": ("Прибытие", "Келу", "Arrival"),
    "target.resolution": ("Выполнение", "Орындау", "Resolution"),
    "recipient": ("Кому", "Кімге", "To"),
    "role.dispatcher": ("диспетчерам", "диспетчерлерге", "dispatchers"),
    "role.coordinator": ("координаторам", "үйлестірушілерге", "coordinators"),
    "role.supervisor": ("руководителям", "басшыларға", "supervisors"),
    "new_date": ("Новый срок клиенту", "Тапсырыс берушіге жаңа мерзім", "New customer date"),
    # -- codes
    "type.installation": ("Подключение", "Қосу", "Installation"),
    "type.repair": ("Устранение повреждения", "Ақауды жою", "Repair"),
    "type.construction": (
        "Строительно-монтажные работы",
        "Құрылыс-монтаж жұмыстары",
        "Construction",
    ),
    "type.meter_check": ("Проверка прибора учёта", "Есептегішті тексеру", "Meter check"),
    "priority.low": ("Низкий", "Төмен", "Low"),
    "priority.normal": ("Обычный", "Қалыпты", "Normal"),
    "priority.high": ("Высокий", "Жоғары", "High"),
    "priority.urgent": ("Срочный", "Шұғыл", "Urgent"),
    "reason.customer_request": (
        "Перенос по просьбе клиента",
        "Тапсырыс берушінің өтініші бойынша ауыстырылды",
        "Moved at the customer's request",
    ),
    "reason.no_access": ("Нет доступа к объекту", "Нысанға кіру мүмкін болмады", "No access"),
    "reason.waiting_for_parts": ("Ожидание материалов", "Материалдарды күту", "Waiting for parts"),
    "reason.on_hold": ("Приостановлен", "Тоқтатылған", "On hold"),
    "reason.not_scheduled": ("Визит не назначен", "Келу тағайындалмаған", "No visit booked"),
    "reason.visit_missed": (
        "Окно визита прошло, монтёр не прибыл",
        "Келу уақыты өтті, маман келмеді",
        "Visit window passed, nobody arrived",
    ),
    "reason.visit_after_deadline": (
        "Визит назначен после срока",
        "Келу мерзімнен кейін белгіленген",
        "Visit booked after the deadline",
    ),
    "reason.in_progress": ("Работы идут", "Жұмыс жүріп жатыр", "Work in progress"),
    "reason.scheduled": ("Визит назначен", "Келу белгіленген", "Visit booked"),
    "event.work_order.created": ("Наряд зарегистрирован", "Тапсырыс тіркелді", "Order registered"),
    "event.work_order.updated": ("Наряд изменён", "Тапсырыс өзгертілді", "Order changed"),
    "event.work_order.cancelled": ("Наряд отменён", "Тапсырыс жойылды", "Order cancelled"),
    "event.work_order.waiting_for_parts": (
        "Ожидание материалов",
        "Материалдарды күту",
        "Waiting for parts",
    ),
    "event.work_order.resumed": ("Работы возобновлены", "Жұмыс жалғасты", "Work resumed"),
    "event.visit.booked": ("Визит согласован", "Келу келісілді", "Visit agreed"),
    "event.visit.rescheduled": ("Визит перенесён", "Келу ауыстырылды", "Visit rescheduled"),
    "event.visit.reassigned": (
        "Назначен другой монтёр",
        "Басқа маман тағайындалды",
        "Technician changed",
    ),
    "event.visit.cancelled": ("Визит отменён", "Келу жойылды", "Visit cancelled"),
    "event.visit.en_route": ("Монтёр в пути", "Маман жолда", "Technician on the way"),
    "event.visit.arrived": ("Монтёр на месте", "Маман орнында", "Technician arrived"),
    "event.visit.completed": ("Работы выполнены", "Жұмыс орындалды", "Work completed"),
    "event.visit.no_access": ("Нет доступа", "Кіру мүмкін болмады", "No access"),
    "event.visit.needs_revisit": ("Нужен повторный визит", "Қайта келу қажет", "Revisit needed"),
    "event.customer.contacted": ("Звонок клиенту", "Тапсырыс берушіге қоңырау", "Customer called"),
    "event.customer.notified": (
        "Клиент уведомлён",
        "Тапсырыс берушіге хабарланды",
        "Customer notified",
    ),
    "event.escalation.raised": ("Эскалация", "Эскалация", "Escalated"),
    "event.escalation.acknowledged": (
        "Эскалация подтверждена",
        "Эскалация расталды",
        "Escalation acknowledged",
    ),
}

# Nominative month names for headings ("март 2026"), not the genitive of dates.
_MONTHS: dict[BoardLanguage, tuple[str, ...]] = {
    "ru": (
        "январь", "февраль", "март", "апрель", "май", "июнь",
        "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
    ),
    "kk": (
        "қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым",
        "шілде", "тамыз", "қыркүйек", "қазан", "қараша", "желтоқсан",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip


def text(key: str, language: BoardLanguage, **values: object) -> str:
    """A board label; unknown codes (a new event kind) fall back to the code itself."""
    entry = TEXTS.get(key)
    if entry is None:
        return key.split(".", 1)[-1]
    value = in_language(entry, language)
    return value.format(**values) if values else value


def all_texts(language: BoardLanguage) -> dict[str, str]:
    """Every label in one language (the template looks them up by key)."""
    return {key: in_language(entry, language) for key, entry in TEXTS.items()}


def format_datetime(value: datetime, language: BoardLanguage) -> str:
    """Wall-clock date and time in the value's own offset, as people write it in each language."""
    if language == "en":
        return f"{value.day} {_MONTHS['en'][value.month - 1][:3]} {value:%Y, %H:%M}"
    return value.strftime("%d.%m.%Y %H:%M")


def format_short(value: datetime, language: BoardLanguage) -> str:
    """Date and time without the year (lists)."""
    if language == "en":
        return f"{value.day} {_MONTHS['en'][value.month - 1][:3]}, {value:%H:%M}"
    return value.strftime("%d.%m %H:%M")


def format_month(value: datetime, language: BoardLanguage) -> str:
    """Month and year: март 2026 / 2026 ж. наурыз / March 2026."""
    month = _MONTHS[language][value.month - 1]
    if language == "kk":
        # NATIVE REVIEW: "2026 жылғы наурыз" reads as the heading of a month's report.
        return f"{value.year} жылғы {month}"
    return f"{month} {value.year}"


def format_span(minutes: int, language: BoardLanguage) -> str:
    """A duration rounded to what matters at that size: minutes, hours, days."""
    minutes = abs(minutes)
    if minutes < 60:
        return text("minutes", language, m=minutes)
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return text("hours_minutes", language, h=hours, m=rest)
    days, hours = divmod(hours, 24)
    return text("days_hours", language, d=days, h=hours)


def format_share(value: float | None, language: BoardLanguage) -> str:
    """A 0..1 share as a percentage with the language's decimal mark."""
    if value is None:
        return "—"
    percent = f"{value * 100:.1f}".removesuffix(".0")
    if language != "en":
        percent = percent.replace(".", ",")
    return f"{percent}\u00a0%" if language != "en" else f"{percent}%"


def format_number(value: float | None, language: BoardLanguage, digits: int = 2) -> str:
    """A decimal number with the language's decimal mark."""
    if value is None:
        return "—"
    shown = f"{value:.{digits}f}"
    return shown if language == "en" else shown.replace(".", ",")
