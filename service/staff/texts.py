"""Every text of the staff pages (layout, sign-in, dispatch) in ru, kk and en.

One table of (ru, kk, en) entries, the style of the board's texts, so a later move to gettext
catalogues is mechanical. Kazakh strings await a native speaker's review (the DOMAIN.md
glossary is followed where it has a term).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from service.common.i18n import LANGUAGES, Language

# Entries are (ru, kk, en) until they move into the gettext catalogs (service/locale).
_INDEX: dict[Language, int] = {"ru": 0, "kk": 1, "en": 2}


def in_language(entry: tuple[str, str, str], language: Language) -> str:
    """The ``language`` text of a (ru, kk, en) entry."""
    return entry[_INDEX[language]]


__all__ = ["LANGUAGES", "LANGUAGE_NAMES", "Language", "all_texts", "text"]

LANGUAGE_NAMES: dict[Language, str] = {"ru": "Русский", "kk": "Қазақша", "en": "English"}

# key: (ru, kk, en)
TEXTS: dict[str, tuple[str, str, str]] = {
    # Layout and navigation
    "brand": ("Наряд", "Наряд", "Naryad"),
    "nav_label": ("Разделы", "Бөлімдер", "Sections"),
    "nav_dispatch": ("Диспетчерская", "Диспетчерлік", "Dispatch"),
    "nav_coordinate": ("Просрочки", "Мерзімі өткендер", "Overdue desk"),
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
    # Dispatch: queue
    "dispatch_title": ("Диспетчерская", "Диспетчерлік", "Dispatch"),
    "queue_title": ("Незапланированные наряды", "Жоспарланбаған нарядтар", "Unscheduled orders"),
    "queue_hint": (
        "Новые, приостановленные, без доступа и требующие повторного визита — "
        "по контрольному сроку.",
        "Жаңа, тоқтатылған, кіру мүмкін болмаған және қайта келуді қажет ететін — "
        "бақылау мерзімі бойынша.",
        "New, on hold, no access and needs revisit, by control deadline.",
    ),
    "search": ("Поиск", "Іздеу", "Search"),
    "search_hint": (
        "Телефон, имя клиента, номер наряда или адрес",
        "Телефон, клиент аты, наряд нөмірі немесе мекенжай",
        "Phone, customer name, order number or address",
    ),
    "filter_type": ("Тип работ", "Жұмыс түрі", "Work type"),
    "filter_priority": ("Приоритет", "Басымдық", "Priority"),
    "filter_territory": ("Территория", "Аумақ", "Territory"),
    "filter_skill": ("Навык", "Дағды", "Skill"),
    "all": ("Все", "Барлығы", "All"),
    "apply": ("Применить", "Қолдану", "Apply"),
    "reset": ("Сбросить", "Тазарту", "Reset"),
    "next_page": ("Дальше", "Келесі", "Next"),
    "first_page": ("В начало", "Басына", "First page"),
    "col_order": ("Наряд", "Наряд", "Order"),
    "col_customer": ("Клиент", "Клиент", "Customer"),
    "col_address": ("Адрес", "Мекенжай", "Address"),
    "col_deadline": ("Контрольный срок", "Бақылау мерзімі", "Control deadline"),
    "col_waiting": ("Почему ждёт", "Неге күтеді", "Why waiting"),
    "no_deadline": ("без срока", "мерзімсіз", "no deadline"),
    "left": ("осталось {span}", "{span} қалды", "{span} left"),
    "overdue_by": ("просрочено на {span}", "{span} кешікті", "overdue by {span}"),
    "queue_empty": ("Очередь пуста.", "Кезек бос.", "The queue is empty."),
    "new_customer": ("Новый клиент", "Жаңа клиент", "New customer"),
    "times_in": ("Время — {zone}", "Уақыт — {zone}", "Times in {zone}"),
    "waiting.new": ("Новый", "Жаңа", "New"),
    "waiting.on_hold": ("Приостановлен", "Тоқтатылған", "On hold"),
    "waiting.no_access": ("Нет доступа", "Кіру мүмкін болмады", "No access"),
    "waiting.needs_revisit": ("Нужен повторный визит", "Қайта келу қажет", "Needs revisit"),
    "waiting.other": ("Без визита", "Барусыз", "No visit"),
    "type.installation": ("Подключение", "Қосылу", "Installation"),
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
    "status.new": ("Новый", "Жаңа", "New"),
    "status.scheduled": ("Запланирован", "Жоспарланған", "Scheduled"),
    "status.in_progress": ("В работе", "Орындалуда", "In progress"),
    "status.completed": ("Выполнен", "Орындалды", "Completed"),
    "status.closed": ("Закрыт", "Жабылды", "Closed"),
    "status.cancelled": ("Отменён", "Болдырылмады", "Cancelled"),
    "status.on_hold": ("Приостановлен", "Тоқтатылған", "On hold"),
    # Dispatch: order panel
    "back_to_queue": ("← К очереди", "← Кезекке", "← Back to the queue"),
    "order": ("Наряд", "Наряд", "Order"),
    "status": ("Статус", "Мәртебе", "Status"),
    "description": ("Описание", "Сипаттама", "Description"),
    "customer": ("Клиент", "Клиент", "Customer"),
    "call": ("Позвонить", "Қоңырау шалу", "Call"),
    "site": ("Объект", "Нысан", "Site"),
    "coordinates": ("Координаты", "Координаттар", "Coordinates"),
    "access_notes": ("Доступ", "Кіру", "Access"),
    "edit": ("Изменить", "Өзгерту", "Edit"),
    "visits": ("Визиты", "Барулар", "Visits"),
    "no_visits": ("Визитов ещё не было.", "Барулар әлі болған жоқ.", "No visits yet."),
    "window": ("Окно", "Терезе", "Window"),
    "technician": ("Монтёр", "Монтёр", "Technician"),
    "agreed": ("Согласовано", "Келісілді", "Agreed"),
    "timeline": ("События", "Оқиғалар", "Timeline"),
    "clocks": ("Сроки (SLA)", "Мерзімдер (SLA)", "SLA clocks"),
    "clock_due": ("срок {due}", "мерзімі {due}", "due {due}"),
    "clock_paused": ("на паузе", "кідіртілген", "paused"),
    "acts": ("Акты", "Актілер", "Acts"),
    "pdf": ("PDF", "PDF", "PDF"),
    "photos": ("Фото", "Фотосуреттер", "Photos"),
    "photo_alt": ("Фото визита {n}", "Бару фотосы {n}", "Visit photo {n}"),
    "rating": ("Оценка клиента", "Клиент бағасы", "Customer rating"),
    "none": ("нет", "жоқ", "none"),
    "clock.running": ("идёт", "жүріп жатыр", "running"),
    "clock.warning": ("скоро срок", "мерзімі жақын", "due soon"),
    "clock.paused": ("пауза", "кідіріс", "paused"),
    "clock.met": ("выполнен", "орындалды", "met"),
    "clock.breached": ("нарушен", "бұзылды", "breached"),
    "clock.cancelled": ("отменён", "болдырылмады", "cancelled"),
    # Dispatch: actions
    "book_title": ("Запланировать визит", "Баруды жоспарлау", "Book a visit"),
    "offers_for": ("Окна на дату", "Күнгі терезелер", "Windows from"),
    "show_offers": ("Показать окна", "Терезелерді көрсету", "Show windows"),
    "no_offers": (
        "Свободных окон нет. Выберите другую дату.",
        "Бос терезелер жоқ. Басқа күнді таңдаңыз.",
        "No free windows. Choose another date.",
    ),
    "km": ("{km} км", "{km} км", "{km} km"),
    "travel": ("в пути {m} мин", "жолда {m} мин", "{m} min travel"),
    "load": ("визитов в день: {n}", "күніне барулар: {n}", "{n} visits that day"),
    "arrival": ("прибытие {t}", "келуі {t}", "arrives {t}"),
    "agreed_with": (
        "Кто согласовал (имя клиента)",
        "Кім келісті (клиент аты)",
        "Agreed with (customer's name)",
    ),
    "channel": ("Как согласовано", "Қалай келісілді", "How it was agreed"),
    "channel.phone": ("Звонок", "Қоңырау", "Phone call"),
    "channel.sms": ("SMS", "SMS", "SMS"),
    "channel.in_person": ("Лично", "Жеке", "In person"),
    "channel.portal": ("Портал", "Портал", "Portal"),
    "book": ("Запланировать", "Жоспарлау", "Book"),
    "booked": ("Визит запланирован.", "Бару жоспарланды.", "The visit is booked."),
    "just_taken": (
        "Это окно только что заняли. Вот свежие варианты.",
        "Бұл терезені жаңа ғана алды. Міне жаңа нұсқалар.",
        "That window was just taken. Here are fresh offers.",
    ),
    "choose_slot": (
        "Выберите окно и монтёра.",
        "Терезе мен монтёрді таңдаңыз.",
        "Choose a window and a technician.",
    ),
    "reschedule": ("Перенести", "Ауыстыру", "Reschedule"),
    "reschedule_title": ("Перенос визита", "Баруды ауыстыру", "Reschedule the visit"),
    "rescheduled": ("Визит перенесён.", "Бару ауыстырылды.", "The visit is rescheduled."),
    "reassign": ("Передать другому", "Басқаға беру", "Reassign"),
    "reassign_title": (
        "Передать визит другому монтёру",
        "Баруды басқа монтёрге беру",
        "Reassign the visit",
    ),
    "reassigned": ("Визит передан.", "Бару берілді.", "The visit is reassigned."),
    "best_candidate": ("Лучший свободный", "Ең жақсы бос", "Best free technician"),
    "cancel_visit": ("Отменить визит", "Баруды болдырмау", "Cancel the visit"),
    "visit_cancelled": ("Визит отменён.", "Бару болдырылмады.", "The visit is cancelled."),
    "cancel_order": ("Отменить наряд", "Нарядты болдырмау", "Cancel the order"),
    "order_cancelled": ("Наряд отменён.", "Наряд болдырылмады.", "The order is cancelled."),
    "reason": ("Причина", "Себеп", "Reason"),
    "choose": ("— выберите —", "— таңдаңыз —", "— choose —"),
    "note": ("Комментарий", "Түсініктеме", "Note"),
    "new_date": ("Новая дата", "Жаңа күн", "New date"),
    "reason.customer_request": ("Просьба клиента", "Клиенттің өтініші", "Customer's request"),
    "reason.technician_unavailable": (
        "Монтёр недоступен",
        "Монтёр қолжетімсіз",
        "Technician unavailable",
    ),
    "reason.waiting_for_parts": ("Ожидание материалов", "Материалдарды күту", "Waiting for parts"),
    "reason.no_access": ("Нет доступа", "Кіру мүмкін болмады", "No access"),
    "reason.weather": ("Погода", "Ауа райы", "Weather"),
    "reason.dispatch_error": ("Ошибка диспетчера", "Диспетчер қатесі", "Dispatch error"),
    "reason.other": ("Другое", "Басқа", "Other"),
    "reason.conflict_of_interest": (
        "Конфликт интересов",
        "Мүдделер қақтығысы",
        "Conflict of interest",
    ),
    "reason.skills": ("Нужны другие навыки", "Басқа дағдылар қажет", "Other skills needed"),
    "reason.workload": ("Нагрузка", "Жүктеме", "Workload"),
    "err.required": ("Заполните это поле.", "Бұл өрісті толтырыңыз.", "Fill in this field."),
    "err.reason_required": ("Укажите причину.", "Себебін көрсетіңіз.", "Give a reason."),
    "err.agreement_required": (
        "Укажите, с кем и как согласовано.",
        "Кіммен және қалай келісілгенін көрсетіңіз.",
        "Say who agreed, and how.",
    ),
    "err.stale": (
        "Наряд изменился, пока вы работали. Проверьте новые данные — введённое сохранено.",
        "Сіз жұмыс істеп жатқанда наряд өзгерді. "
        "Жаңа деректерді тексеріңіз — енгізілгендер сақталды.",
        "The order changed while you were working. Check the new data; what you typed is kept.",
    ),
    "err.refused": ("Не получилось: {detail}", "Болмады: {detail}", "Not done: {detail}"),
    "err.phone": (
        "Телефон в формате +77011234567 (с кодом страны).",
        "Телефон +77011234567 пішімінде (ел кодымен).",
        "Phone as +77011234567 (with the country code).",
    ),
    "err.invalid": ("Проверьте значение.", "Мәнді тексеріңіз.", "Check this value."),
    "err.latlon": (
        "Широта от −90 до 90, долгота от −180 до 180.",
        "Ендік −90-нан 90-ға дейін, бойлық −180-нен 180-ге дейін.",
        "Latitude −90 to 90, longitude −180 to 180.",
    ),
    "err.form": (
        "Исправьте отмеченные поля.",
        "Белгіленген өрістерді түзетіңіз.",
        "Correct the marked fields.",
    ),
    "not_allowed_action": (
        "Это действие вашей роли недоступно.",
        "Бұл әрекет сіздің рөліңізге қолжетімсіз.",
        "Your role may not do this.",
    ),
    "target.response": ("Реакция", "Әрекет ету", "Response"),
    "target.arrival": ("Прибытие", "Келу", "Arrival"),
    "target.resolution": ("Решение", "Шешу", "Resolution"),
    "clock_steps": ("Как считается", "Қалай есептеледі", "How it is counted"),
    "phone": ("Телефон", "Телефон", "Phone"),
    "event.work_order.created": ("Наряд создан", "Наряд құрылды", "Order created"),
    "event.work_order.updated": ("Наряд изменён", "Наряд өзгертілді", "Order changed"),
    "event.work_order.cancelled": ("Наряд отменён", "Наряд болдырылмады", "Order cancelled"),
    "event.work_order.waiting_for_parts": (
        "Ожидание материалов",
        "Материалдарды күту",
        "Waiting for parts",
    ),
    "event.work_order.resumed": ("Работа возобновлена", "Жұмыс жалғасты", "Work resumed"),
    "event.visit.booked": ("Визит назначен", "Бару тағайындалды", "Visit booked"),
    "event.visit.rescheduled": ("Визит перенесён", "Бару ауыстырылды", "Visit rescheduled"),
    "event.visit.reassigned": ("Визит передан", "Бару берілді", "Visit reassigned"),
    "event.visit.cancelled": ("Визит отменён", "Бару болдырылмады", "Visit cancelled"),
    "event.visit.en_route": ("Монтёр в пути", "Монтёр жолда", "Technician en route"),
    "event.visit.arrived": ("Монтёр на месте", "Монтёр орнында", "Technician on site"),
    "event.visit.completed": ("Визит выполнен", "Бару орындалды", "Visit completed"),
    "event.visit.no_access": ("Нет доступа", "Кіру мүмкін болмады", "No access"),
    "event.visit.needs_revisit": ("Нужен повторный визит", "Қайта келу қажет", "Revisit needed"),
    "event.customer.contacted": ("Звонок клиенту", "Клиентке қоңырау", "Customer contacted"),
    "event.customer.notified": ("Клиент уведомлён", "Клиентке хабарланды", "Customer notified"),
    "visit.planned": ("Запланирован", "Жоспарланған", "Planned"),
    "visit.en_route": ("В пути", "Жолда", "En route"),
    "visit.on_site": ("На месте", "Орнында", "On site"),
    "visit.completed": ("Выполнен", "Орындалды", "Completed"),
    "visit.no_access": ("Нет доступа", "Кіру мүмкін болмады", "No access"),
    "visit.waiting_for_adult": ("Ждёт взрослого", "Ересекті күтуде", "Waiting for an adult"),
    "visit.aborted_safety": (
        "Прерван (безопасность)",
        "Тоқтатылды (қауіпсіздік)",
        "Aborted (safety)",
    ),
    "visit.needs_revisit": ("Нужен повторный визит", "Қайта келу қажет", "Needs revisit"),
    "visit.customer_refused_to_sign": (
        "Клиент не подписал",
        "Клиент қол қоймады",
        "Customer refused to sign",
    ),
    "visit.cancelled": ("Отменён", "Болдырылмады", "Cancelled"),
    # Customers and sites
    "customer_title": ("Клиент", "Клиент", "Customer"),
    "full_name": ("ФИО или название", "Аты-жөні немесе атауы", "Full name or company"),
    "phones": ("Телефоны (через запятую)", "Телефондар (үтір арқылы)", "Phones (comma-separated)"),
    "preferred_language": ("Язык общения", "Қарым-қатынас тілі", "Preferred language"),
    "notes": ("Заметки", "Ескертпелер", "Notes"),
    "save": ("Сохранить", "Сақтау", "Save"),
    "saved": ("Сохранено.", "Сақталды.", "Saved."),
    "sites": ("Объекты", "Нысандар", "Sites"),
    "new_site": ("Новый объект", "Жаңа нысан", "New site"),
    "address": ("Адрес", "Мекенжай", "Address"),
    "latitude": ("Широта", "Ендік", "Latitude"),
    "longitude": ("Долгота", "Бойлық", "Longitude"),
    "map_hint": (
        "Координаты можно выбрать на карте или ввести вручную.",
        "Координаттарды картадан таңдауға немесе қолмен енгізуге болады.",
        "Pick the coordinates on the map or type them in.",
    ),
}


def text(key: str, language: Language, **values: object) -> str:
    """One text in ``language``, with ``{name}`` placeholders filled from ``values``."""
    template = in_language(TEXTS[key], language)
    return template.format(**values) if values else template


def all_texts(language: Language) -> dict[str, str]:
    """Every text in ``language`` (templates look texts up by key)."""
    return {key: in_language(entry, language) for key, entry in TEXTS.items()}


def format_local(value: datetime, zone_key: str) -> str:
    """A time in a territory's zone as ``dd.mm.yyyy HH:MM``, the zone named after it."""
    local = value.astimezone(ZoneInfo(zone_key))
    return f"{local:%d.%m.%Y %H:%M} ({zone_key})"


def format_window(start: datetime, end: datetime, zone_key: str) -> str:
    """A window in a territory's zone: ``dd.mm.yyyy HH:MM–HH:MM (zone)``."""
    zone = ZoneInfo(zone_key)
    a, b = start.astimezone(zone), end.astimezone(zone)
    tail = f"{b:%H:%M}" if a.date() == b.date() else f"{b:%d.%m.%Y %H:%M}"
    return f"{a:%d.%m.%Y %H:%M}–{tail} ({zone_key})"


def format_span(minutes: int, language: Language) -> str:
    """A duration as days, hours and minutes (``1 д 4 ч``, ``35 мин``)."""
    units = {"ru": ("д", "ч", "мин"), "kk": ("к", "сағ", "мин"), "en": ("d", "h", "min")}[language]
    minutes = abs(minutes)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} {units[0]}"] if days else []
    if hours:
        parts.append(f"{hours} {units[1]}")
    if not days and (mins or not hours):
        parts.append(f"{mins} {units[2]}")
    return " ".join(parts)
