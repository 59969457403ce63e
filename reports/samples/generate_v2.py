"""Write the version 2 sample acts from the version 1 ones: `python -m reports.samples.generate_v2`.

The version 1 samples (and their images) stay byte-for-byte as they were signed: they prove old
acts still verify and render. The version 2 samples show the act as it is drafted now: the
site's zone, the customer's request, statements with answers and evidence, no preparation steps.
"""

from __future__ import annotations

import json
import re
from typing import Any

from reports.i18n import label, unit_name
from reports.samples import SAMPLE_ACTS, SAMPLE_ACTS_V2
from reports.snapshot import Language, parse_snapshot, snapshot_sha256

_POINT = re.compile(r"\[\s+(-?[0-9.]+),\s+(-?[0-9.]+)\s+\]")
# Preparation before departure: the technician's internal record, never the customer's act.
_INTERNAL = {
    "supervisor_check",
    "materials_ready",
    "overshoes_on_hand",
    "visit_time_known",
    "support_contacts_known",
}
# The installation template's (version 2) statements for the steps the sample shows.
_STATEMENTS: dict[str, tuple[str, str, str]] = {
    "geo_arrival": (
        "Прибытие на адрес объекта отмечено",
        "Нысан мекенжайына келу белгіленді",
        "Arrival at the site recorded",
    ),
    "greeting": (
        "Клиент поприветствован, названы имя специалиста и цель визита",
        "Тапсырыс берушімен амандасылды, маманның аты мен келу мақсаты айтылды",
        "Greeted the customer, gave the technician's name and the purpose of the visit",
    ),
    "show_id": (
        "Предъявлено служебное удостоверение",
        "Қызметтік куәлік көрсетілді",
        "Company ID shown",
    ),
    "adult_present": (
        "Дверь открыл взрослый",
        "Есікті ересек адам ашты",
        "An adult opened the door",
    ),
    "acceptor_name": (
        "Уточнено, кто принимает работу",
        "Жұмысты кім қабылдайтыны нақтыланды",
        "Asked who accepts the work",
    ),
    "overshoes_on": (
        "При входе в помещение надеты бахилы",
        "Үй-жайға кірерде бахила киілді",
        "Overshoes put on when entering",
    ),
    "invited_in": (
        "Вход только по приглашению и в сопровождении клиента; верхняя одежда оставлена, где "
        "указал клиент",
        "Тапсырыс берушінің шақыруымен және онымен бірге кірілді; сырт киім ол көрсеткен жерге "
        "қалдырылды",
        "Entered only when invited and accompanied; coat left where the customer said",
    ),
    "photo_before": (
        "Зона работ сфотографирована до начала работ",
        "Жұмыс аймағы жұмысқа дейін суретке түсірілді",
        "Work area photographed before the work",
    ),
    "actions_explained": (
        "Действия и их результат разъяснены клиенту",
        "Әрекеттер мен олардың нәтижесі тапсырыс берушіге түсіндірілді",
        "Each action and its result explained to the customer",
    ),
    "no_damage_area_clean": (
        "Мебель и интерьер не повреждены, зона работ убрана",
        "Жиһаз бен интерьер зақымдалмады, жұмыс аймағы тазартылды",
        "No damage to furniture or interior; work area left clean",
    ),
    "photo_after": (
        "Зона работ сфотографирована после работ",
        "Жұмыс аймағы жұмыстан кейін суретке түсірілді",
        "Work area photographed after the work",
    ),
    "equipment_installed": (
        "Установлено оборудование (серийные номера)",
        "Жабдық орнатылды (сериялық нөмірлер)",
        "Equipment installed (serial numbers)",
    ),
    "demo_service": (
        "Продемонстрирована работа услуги",
        "Қызметтің жұмыс істейтіні көрсетілді",
        "Showed that the service works",
    ),
    "customer_satisfied": (
        "Уточнено, всё ли устраивает клиента",
        "Тапсырыс берушіні бәрі қанағаттандыратыны сұралды",
        "Asked whether the customer is satisfied",
    ),
    "usage_advice": (
        "Даны рекомендации по использованию и безопасности услуги",
        "Қызметті пайдалану және қауіпсіздігі бойынша кеңес берілді",
        "Advice given on using the service safely",
    ),
    "channels_informed": (
        "Рассказано о каналах обслуживания",
        "Қызмет көрсету арналары туралы айтылды",
        "Told about the self-service channels",
    ),
}
_DESCRIPTION = {
    "ru": "Подключить домашний интернет и IPTV на две приставки; удобно до обеда.",
    "kk": "Үй интернетін және екі приставкаға IPTV қосу; түске дейін ыңғайлы.",
    "en": "Connect home internet and IPTV for two set-top boxes; mornings suit best.",
}
_INDEX: dict[Language, int] = {"ru": 0, "kk": 1, "en": 2}


def main() -> None:
    """Write act_sample_v2*.json next to this module from the version 1 samples."""
    for language in _INDEX:
        source = SAMPLE_ACTS[language]
        envelope = json.loads(source.read_text("utf-8"))
        snapshot = _upgrade(envelope["snapshot"], language)
        document_sha256 = snapshot_sha256(parse_snapshot(snapshot))
        for signature in envelope["signatures"]:
            signature["document_sha256"] = document_sha256
        envelope["snapshot"] = snapshot
        text = json.dumps(envelope, ensure_ascii=False, indent=2)
        text = _POINT.sub(r"[\1, \2]", text)
        SAMPLE_ACTS_V2[language].write_text(text + "\n", "utf-8")
        print(f"wrote {SAMPLE_ACTS_V2[language].name} (sha256 {document_sha256})")


def _upgrade(snapshot: dict[str, Any], language: Language) -> dict[str, Any]:
    serials = [line["serial"] for line in snapshot["equipment"] if line.get("serial")]
    upgraded = dict(snapshot)
    upgraded["version"] = 2
    upgraded["time_zone"] = "Asia/Almaty"
    # The sample's technician signs on the device (its envelope carries that signature).
    upgraded["contractor_signature"] = "technician"
    upgraded["work_order"] = {**snapshot["work_order"], "description": _DESCRIPTION[language]}
    upgraded["equipment"] = [
        {**line, "unit": unit_name(line["unit"], language), "action": "installed"}
        for line in snapshot["equipment"]
    ]
    rows = []
    for entry in snapshot["checklist"]:
        step_id = entry["step_id"]
        if step_id in _INTERNAL:
            continue
        row = {**entry, "label": _STATEMENTS[step_id][_INDEX[language]]}
        row["answer"] = _answer(step_id, entry["answer"], language, serials)
        if step_id == "geo_arrival":
            row["evidence"] = label("evidence.distance", language, distance=14, accuracy=6)
        rows.append(row)
    upgraded["checklist"] = rows
    return upgraded


def _answer(step_id: str, answer: str, language: Language, serials: list[str]) -> str:
    """The answer as the content builder words it, not the version 1 summary."""
    if step_id == "geo_arrival":
        return label("answer.at_site", language)
    if step_id == "equipment_installed":
        return ", ".join(serials)
    if step_id in ("photo_before", "photo_after"):
        count = int(answer.split(maxsplit=1)[0])
        return label("answer.photos" if count != 1 else "answer.photo", language, count=count)
    if step_id in ("customer_satisfied",) or answer in ("да", "иә", "yes"):
        return label("answer.yes", language)
    return answer


if __name__ == "__main__":
    main()
