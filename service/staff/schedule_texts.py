# ruff: noqa: E501  (a table of sentences: one entry a line reads best)
"""Texts of the schedule board, the map and the lateness inbox in ru, kk and en.

Same table shape as ``service/staff/texts.py`` (key: ru, kk, en); Kazakh awaits a native
speaker's review. Templates get them as ``dt``.
"""

from __future__ import annotations

from service.common.i18n import LANGUAGES, Language

# key: (ru, kk, en)
TEXTS: dict[str, tuple[str, str, str]] = {
    "subnav_label": ("Диспетчерская", "Диспетчерлік", "Dispatch"),
    "schedule_title": ("График техников", "Техниктер кестесі", "Technicians' schedule"),
    "map_title": ("Карта территории", "Аумақ картасы", "Territory map"),
    "lateness_title": ("Опоздания за сегодня", "Бүгінгі кешігулер", "Today's late visits"),
    "territory": ("Территория", "Аумақ", "Territory"),
    "day": ("День", "Күн", "Day"),
    "view_day": ("День", "Күн", "Day"),
    "view_week": ("Неделя", "Апта", "Week"),
    "show": ("Показать", "Көрсету", "Show"),
    "previous_day": ("Предыдущий день", "Алдыңғы күн", "Previous day"),
    "next_day": ("Следующий день", "Келесі күн", "Next day"),
    "previous_week": ("Предыдущая неделя", "Алдыңғы апта", "Previous week"),
    "next_week": ("Следующая неделя", "Келесі апта", "Next week"),
    "today": ("Сегодня", "Бүгін", "Today"),
    "times_in": ("Время: {zone}", "Уақыт: {zone}", "Times in {zone}"),
    "technician": ("Техник", "Техник", "Technician"),
    "no_technicians": (
        "В этой территории нет активных техников.",
        "Бұл аумақта белсенді техник жоқ.",
        "This territory has no active technicians.",
    ),
    "legend": ("Обозначения", "Белгілер", "Legend"),
    "legend_shift": ("смена", "ауысым", "shift"),
    "legend_absence": ("отсутствие", "жоқ болу", "absence"),
    "legend_window": ("согласованное окно", "келісілген уақыт", "agreed window"),
    "legend_travel": ("дорога", "жол", "travel"),
    "legend_work": ("работа (план)", "жұмыс (жоспар)", "work (planned)"),
    "legend_late": ("опоздание", "кешігу", "late"),
    "window": ("Окно", "Уақыт аралығы", "Window"),
    "planned_arrival": ("Прибытие", "Келу", "Arrival"),
    "travel_minutes": ("{minutes} мин в пути", "жолда {minutes} мин", "{minutes} min travel"),
    "late": ("опоздание", "кешігу", "late"),
    "busy_elsewhere": (
        "занят (другая территория)",
        "бос емес (басқа аумақ)",
        "busy (other territory)",
    ),
    "visits_count": ("визитов: {count}", "бару саны: {count}", "{count} visits"),
    "late_count": ("опаздывает: {count}", "кешігеді: {count}", "{count} late"),
    "live": (
        "Статусы с телефонов обновляются сами.",
        "Телефондардан келген күйлер өздігінен жаңарады.",
        "Phone statuses refresh by themselves.",
    ),
    "status_planned": ("запланирован", "жоспарланған", "planned"),
    "status_en_route": ("в пути", "жолда", "en route"),
    "status_on_site": ("на месте", "орнында", "on site"),
    "status_completed": ("выполнен", "орындалды", "done"),
    "status_no_access": ("нет доступа", "кіру мүмкін емес", "no access"),
    "status_waiting_for_adult": ("ждёт взрослого", "ересекті күтуде", "waiting for an adult"),
    "status_aborted_safety": (
        "прерван (безопасность)",
        "тоқтатылды (қауіпсіздік)",
        "aborted (safety)",
    ),
    "status_needs_revisit": ("нужен повторный", "қайта бару керек", "needs revisit"),
    "status_customer_refused_to_sign": (
        "отказ подписать",
        "қол қоюдан бас тартты",
        "refused to sign",
    ),
    "map_hint": (
        "Границы территорий, адреса визитов дня и последние известные места техников.",
        "Аумақ шекаралары, күнгі бару мекенжайлары және техниктердің соңғы орындары.",
        "Territory outlines, the day's visit sites and technicians' last known positions.",
    ),
    "map_no_tiles": (
        "Подложка карты не настроена: показаны только границы и точки.",
        "Карта негізі бапталмаған: тек шекаралар мен нүктелер көрсетілген.",
        "No map tiles configured: outlines and points only.",
    ),
    "map_sites": ("Адреса визитов", "Бару мекенжайлары", "Visit sites"),
    "map_positions": (
        "Техники (последнее место)",
        "Техниктер (соңғы орны)",
        "Technicians (last position)",
    ),
    "map_no_position": ("нет данных о месте", "орны туралы дерек жоқ", "no position known"),
    "map_position_at": ("в {time}", "{time}", "at {time}"),
    "lateness_hint": (
        "Визиты, по которым сегодня предсказано опоздание. Позвоните клиенту или передайте визит другому технику.",
        "Бүгін кешігу болжанған барулар. Клиентке қоңырау шалыңыз немесе баруды басқа техникке беріңіз.",
        "Visits predicted late today. Call the customer, or give the visit to another technician.",
    ),
    "lateness_empty": ("Сегодня опозданий нет.", "Бүгін кешігу жоқ.", "No late visits today."),
    "open_alerts": ("Ждут ответа: {count}", "Жауап күтуде: {count}", "{count} waiting"),
    "order": ("Заказ", "Тапсырыс", "Order"),
    "customer": ("Клиент", "Тапсырыс беруші", "Customer"),
    "phone": ("Телефон", "Телефон", "Phone"),
    "raised_at": ("Сигнал", "Белгі", "Alert"),
    "predicted_arrival": ("Прогноз прибытия", "Болжамды келу", "Predicted arrival"),
    "minutes_late": (
        "на {minutes} мин позже окна",
        "уақыттан {minutes} мин кеш",
        "{minutes} min after the window",
    ),
    "actions": ("Действия", "Әрекеттер", "Actions"),
    "customer_informed": ("Клиент предупреждён", "Клиент ескертілді", "Customer informed"),
    "informed_at": ("Предупреждён в {time}", "{time} ескертілді", "Informed at {time}"),
    "reassign": ("Передать другому", "Басқаға беру", "Reassign"),
    "not_reassignable": ("техник уже выехал", "техник шығып кетті", "technician already set out"),
    "notice_informed": (
        "Отмечено: клиент предупреждён.",
        "Белгіленді: клиент ескертілді.",
        "Recorded: the customer was informed.",
    ),
    "notice_already_informed": (
        "Это уже было отмечено.",
        "Бұл бұрын белгіленген.",
        "This was already recorded.",
    ),
    "notice_reassigned": (
        "Визит передан технику {name}.",
        "Бару {name} техникке берілді.",
        "The visit now goes to {name}.",
    ),
    "error_no_candidate": (
        "Нет свободного техника на это окно. Перенесите визит по согласованию с клиентом.",
        "Бұл уақытқа бос техник жоқ. Клиентпен келісіп, баруды ауыстырыңыз.",
        "No technician is free for this window. Reschedule it with the customer.",
    ),
    "error_not_late": (
        "По этому визиту нет сигнала об опоздании.",
        "Бұл бару бойынша кешігу белгісі жоқ.",
        "This visit has no lateness alert.",
    ),
    "bad_query": (
        "Неверный параметр адреса: {name}.",
        "Мекенжай параметрі қате: {name}.",
        "A parameter of the address is not valid: {name}.",
    ),
    "error_changed": (
        "Визит изменился, пока страница была открыта. Проверьте и повторите.",
        "Бет ашық тұрғанда бару өзгерді. Тексеріп, қайталаңыз.",
        "The visit changed while the page was open. Check and try again.",
    ),
}


def dispatch_texts(language: Language) -> dict[str, str]:
    """Every text of these pages in ``language``.

    Picked from the table here rather than through ``service.common.i18n`` (which moves to
    gettext catalogs), so these pages keep working on either side of that move.
    """
    column = {"ru": 0, "kk": 1, "en": 2}[language if language in LANGUAGES else "ru"]
    return {key: entry[column] for key, entry in TEXTS.items()}
