"""Texts the engine itself produces (errors, flags, blocking reasons) in ru, kk and en.

Step and phase texts live in the templates. All Kazakh strings in this module await a
native speaker's review (see KAZAKH_REVIEWED).
"""

from __future__ import annotations

from checklists.schema import Lang

KAZAKH_REVIEWED = False

_Catalog = dict[str, dict[Lang, str]]

CATALOG: _Catalog = {
    # Answer rejections.
    "unknown_step": {
        "ru": "Шага «{step}» нет в этом чек-листе.",
        "kk": "Бұл тексеру парағында «{step}» қадамы жоқ.",
        "en": "Step “{step}” is not in this checklist.",
    },
    "step_hidden": {
        "ru": "Шаг «{title}» не показывается при текущих ответах.",
        "kk": "«{title}» қадамы қазіргі жауаптар бойынша көрсетілмейді.",
        "en": "Step “{title}” is not shown for the current answers.",
    },
    "phase_locked": {
        "ru": "Этап «{phase}» ещё недоступен: {detail}",
        "kk": "«{phase}» кезеңі әлі қолжетімсіз: {detail}",
        "en": "Phase “{phase}” is not open yet: {detail}",
    },
    "outcome_not_declared": {
        "ru": "Шаг «{title}» заполняется только при исходе «{outcome}».",
        "kk": "«{title}» қадамы тек «{outcome}» нәтижесінде толтырылады.",
        "en": "Step “{title}” is recorded only with the outcome “{outcome}”.",
    },
    "wrong_type": {
        "ru": "Шаг «{title}»: ожидается {expected}.",
        "kk": "«{title}» қадамы: {expected} күтіледі.",
        "en": "Step “{title}” expects {expected}.",
    },
    "confirm_only_true": {
        "ru": "«{title}»: подтверждение бывает только «да»; невыполненный шаг оставьте без ответа.",
        "kk": "«{title}»: растау тек «иә» бола алады; орындалмаған қадамды жауапсыз қалдырыңыз.",
        "en": "“{title}”: a confirmation can only be true; leave an undone step unanswered.",
    },
    "not_finite": {
        "ru": "«{title}»: значение должно быть конечным числом.",
        "kk": "«{title}»: мән ақырлы сан болуы керек.",
        "en": "“{title}”: the value must be a finite number.",
    },
    "below_min": {
        "ru": "«{title}»: {value} меньше минимума {min} {unit}.",
        "kk": "«{title}»: {value} ең аз мәннен ({min} {unit}) кем.",
        "en": "“{title}”: {value} is below the minimum of {min} {unit}.",
    },
    "above_max": {
        "ru": "«{title}»: {value} больше максимума {max} {unit}.",
        "kk": "«{title}»: {value} ең көп мәннен ({max} {unit}) асады.",
        "en": "“{title}”: {value} is above the maximum of {max} {unit}.",
    },
    "invalid_option": {
        "ru": "«{title}»: варианта «{value}» нет (варианты: {options}).",
        "kk": "«{title}»: «{value}» нұсқасы жоқ (нұсқалар: {options}).",
        "en": "“{title}”: “{value}” is not an option (options: {options}).",
    },
    "empty_value": {
        "ru": "«{title}»: ответ не может быть пустым.",
        "kk": "«{title}»: жауап бос болмауы керек.",
        "en": "“{title}”: the answer cannot be blank.",
    },
    "too_long": {
        "ru": "«{title}»: не длиннее {max} символов.",
        "kk": "«{title}»: {max} таңбадан аспауы керек.",
        "en": "“{title}”: at most {max} characters.",
    },
    "photo_count": {
        "ru": "«{title}»: нужно фото от {min} до {max}, получено {count}.",
        "kk": "«{title}»: {min}–{max} фотосурет қажет, {count} алынды.",
        "en": "“{title}”: needs {min} to {max} photos, got {count}.",
    },
    "invalid_photo_ids": {
        "ru": "«{title}»: идентификаторы фото должны быть непустыми и без повторов.",
        "kk": "«{title}»: фотосурет идентификаторлары бос емес және қайталанбауы керек.",
        "en": "“{title}”: photo ids must be non-empty and listed once each.",
    },
    "serial_empty": {
        "ru": "«{title}»: серийный номер пустой.",
        "kk": "«{title}»: сериялық нөмір бос.",
        "en": "“{title}”: a serial number is empty.",
    },
    "serial_duplicate": {
        "ru": "«{title}»: серийный номер {value} указан дважды.",
        "kk": "«{title}»: {value} сериялық нөмірі екі рет көрсетілген.",
        "en": "“{title}”: serial number {value} is listed twice.",
    },
    "serial_count": {
        "ru": "«{title}»: нужно серийных номеров от {min} до {max}, получено {count}.",
        "kk": "«{title}»: {min}–{max} сериялық нөмір қажет, {count} алынды.",
        "en": "“{title}”: needs {min} to {max} serial numbers, got {count}.",
    },
    "missing_location": {
        "ru": "«{title}»: нужно местоположение устройства.",
        "kk": "«{title}»: құрылғының орналасқан жері қажет.",
        "en": "“{title}”: the device location is required.",
    },
    "invalid_location": {
        "ru": "«{title}»: координаты или точность вне допустимого диапазона.",
        "kk": "«{title}»: координаттар немесе дәлдік рұқсат етілген ауқымнан тыс.",
        "en": "“{title}”: coordinates or accuracy are out of range.",
    },
    "naive_timestamp": {
        "ru": "«{title}»: время ответа должно содержать смещение от UTC.",
        "kk": "«{title}»: жауап уақыты UTC-ден ығысуды қамтуы керек.",
        "en": "“{title}”: answered_at must carry a UTC offset.",
    },
    "step_id_mismatch": {
        "ru": "Ответ записан под ключом «{key}», но относится к шагу «{step}».",
        "kk": "Жауап «{key}» кілтімен сақталған, бірақ «{step}» қадамына жатады.",
        "en": "The answer is stored under “{key}” but names step “{step}”.",
    },
    # Flags: accepted answers that deserve a second look.
    "outside_radius": {
        "ru": "Отметка в {distance} м от адреса объекта (допустимо {radius} м).",
        "kk": "Белгі нысан мекенжайынан {distance} м қашықтықта (рұқсат етілгені {radius} м).",
        "en": "Position is {distance} m from the site (allowed {radius} m).",
    },
    "low_accuracy": {
        "ru": "Точность местоположения {accuracy} м хуже допустимого радиуса {radius} м.",
        "kk": "Орналасу дәлдігі {accuracy} м, бұл рұқсат етілген {radius} м радиустан нашар.",
        "en": "Location accuracy of {accuracy} m is worse than the allowed radius of {radius} m.",
    },
    "site_unknown": {
        "ru": "Координаты объекта неизвестны, присутствие на месте не проверено.",
        "kk": "Нысанның координаттары белгісіз, орында болуы тексерілмеді.",
        "en": "The site position is unknown; presence was not checked.",
    },
    # Blocking reasons.
    "gate_unanswered": {
        "ru": "сначала выполните шаг «{title}».",
        "kk": "алдымен «{title}» қадамын орындаңыз.",
        "en": "first complete “{title}”.",
    },
    "gate_value": {
        "ru": "для шага «{title}» нужен ответ «{expected}».",
        "kk": "«{title}» қадамына «{expected}» жауабы қажет.",
        "en": "“{title}” must be “{expected}”.",
    },
    "phase_gate": {
        "ru": "Этап «{phase}» недоступен: {detail}",
        "kk": "«{phase}» кезеңі қолжетімсіз: {detail}",
        "en": "Phase “{phase}” is locked: {detail}",
    },
    "outcome_gate": {
        "ru": "Исход «{outcome}»: {detail}",
        "kk": "«{outcome}» нәтижесі: {detail}",
        "en": "Outcome “{outcome}”: {detail}",
    },
    "required_step": {
        "ru": "Не выполнен обязательный шаг «{title}».",
        "kk": "«{title}» міндетті қадамы орындалмаған.",
        "en": "Required step “{title}” is not done.",
    },
    "automatic_outcome": {
        "ru": "Действует исход «{outcome}»: {detail}",
        "kk": "«{outcome}» нәтижесі күшінде: {detail}",
        "en": "Outcome “{outcome}” is in effect: {detail}",
    },
    "yes": {"ru": "Да", "kk": "Иә", "en": "Yes"},
    "no": {"ru": "Нет", "kk": "Жоқ", "en": "No"},
    # What each step kind expects, used in wrong_type.
    "expects_confirm": {"ru": "подтверждение (true)", "kk": "растау (true)", "en": "true"},
    "expects_yes_no": {"ru": "да или нет", "kk": "иә немесе жоқ", "en": "yes or no"},
    "expects_choice": {"ru": "один из вариантов", "kk": "нұсқалардың бірі", "en": "one option"},
    "expects_text": {"ru": "текст", "kk": "мәтін", "en": "text"},
    "expects_number": {"ru": "число", "kk": "сан", "en": "a number"},
    "expects_person_name": {"ru": "имя", "kk": "аты-жөні", "en": "a name"},
    "expects_photo": {
        "ru": "фото в photo_ids (value пустое)",
        "kk": "photo_ids ішіндегі фотосуреттер (value бос)",
        "en": "photos in photo_ids (value null)",
    },
    "expects_signature": {
        "ru": "идентификатор подписи",
        "kk": "қолтаңба идентификаторы",
        "en": "a signature id",
    },
    "expects_geo_check": {
        "ru": "местоположение в location (value пустое)",
        "kk": "location ішіндегі орналасқан жер (value бос)",
        "en": "a position in location (value null)",
    },
    "expects_serial": {
        "ru": "список серийных номеров",
        "kk": "сериялық нөмірлер тізімі",
        "en": "a list of serial numbers",
    },
}


def render(code: str, lang: Lang, **params: object) -> str:
    """The message for `code` in `lang`, with its placeholders filled in."""
    return CATALOG[code][lang].format(**params)


def format_number(value: float) -> str:
    """A number without a spurious '.0' (200.0 -> '200')."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
