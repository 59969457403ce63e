"""What the customer's act says: checklist answers and equipment as act rows (pure, no I/O).

Rows are written for the customer, in the act's language: the step's past-tense statement
and the answer as it was given (a name, a choice's label, a number with its unit, serials,
yes/no, a photo count). A position is evidence printed beside the answer (the distance from the
site), never the answer itself. Internal steps (preparation before departure, the technician's
own notes) and steps completed only by signing never become rows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from msgspec import UNSET

import reports
from checklists import Answer, CompiledTemplate
from checklists.geo import haversine_m
from checklists.schema import (
    ChoiceStep,
    ConfirmStep,
    GeoCheckStep,
    GeoPoint,
    NumberStep,
    PersonNameStep,
    PhotoStep,
    SerialEntry,
    SerialStep,
    SignatureStep,
    Step,
    TextStep,
    YesNoStep,
)
from checklists.validation import is_customer_visible, iter_steps
from reports.i18n import format_distance, format_quantity, label, unit_name

# Steps that the signature itself (and the goodbye after it) completes: not yet true when the
# customer reads the act.
AFTER_SIGNING = frozenset({"sign_act", "sign_handover_act", "thanked"})


def act_kind(document: str) -> str:
    """The kind of act a signature step's ``document`` names (completion_act -> completion)."""
    return document.removesuffix("_act")


# Preparation the customer never sees; a safety net for templates published before phases
# could be marked internal (a version-1 pin with no newer version to borrow markers from).
INTERNAL_PHASES = frozenset({"before_departure"})
MAX_ANSWER = 2000
MAX_EVIDENCE = 300


@dataclass(frozen=True, slots=True)
class RowSource:
    """Where a step's act texts come from: the pinned template, or a newer one for old pins."""

    pinned: CompiledTemplate
    # The newest published version of the same key: old pinned versions lack statements.
    newest: CompiledTemplate | None = None

    def has_statements(self, template: CompiledTemplate) -> bool:
        """Whether a template version defines act statements at all."""
        return any(s.step.statement is not None for s in template.steps.values())

    def texts(self) -> CompiledTemplate:
        """The version whose statements and internal markers the act follows."""
        if self.has_statements(self.pinned) or self.newest is None:
            return self.pinned
        return self.newest


def checklist_rows(
    source: RowSource,
    answers: Mapping[str, Answer],
    *,
    answered: Collection[str],
    language: reports.Language,
    zone: ZoneInfo,
    site: GeoPoint | None,
    fallback_time: datetime,
) -> tuple[reports.ChecklistEntry, ...]:
    """The act's checklist rows, in template order, for the counted answers of a visit.

    ``answered`` are the step ids whose answers the engine counted (visible, valid, unlocked);
    an answer to a hidden step is not printed. Times are given in ``zone``.
    """
    pinned = source.pinned
    texts = source.texts()
    # A step internal in either version stays out: a pin from before steps and phases could be
    # marked internal borrows the markers of the version whose statements it follows.
    internal = _internal_steps(pinned) | _internal_steps(texts)
    rows = []
    for step_id, compiled in pinned.steps.items():
        answer = answers.get(step_id)
        if answer is None or step_id not in answered or step_id in AFTER_SIGNING:
            continue
        if compiled.phase_index is None or step_id in internal:
            continue
        step = compiled.step
        text, evidence = answer_text(step, answer, language, site)
        if not text:
            continue
        rows.append(
            reports.ChecklistEntry(
                step_id=step_id,
                label=_statement(step, texts, language)[:300],
                answer=text[:MAX_ANSWER],
                answered_at=(answer.answered_at or fallback_time).astimezone(zone),
                evidence=evidence[:MAX_EVIDENCE] if evidence else UNSET,
            )
        )
    return tuple(rows)


def _internal_steps(template: CompiledTemplate) -> frozenset[str]:
    """The ids of a version's phase steps that the customer's act never shows."""
    phases = template.template.phases
    return frozenset(
        entry.step.id
        for entry in iter_steps(template.template)
        if entry.phase_index is not None
        and (
            not is_customer_visible(template.template, entry)
            or phases[entry.phase_index].id in INTERNAL_PHASES
        )
    )


def _statement(step: Step, texts: CompiledTemplate, language: reports.Language) -> str:
    if step.statement is not None:
        return step.statement.get(language)
    newer = texts.steps.get(step.id)
    if newer is not None and newer.step.statement is not None:
        return newer.step.statement.get(language)
    # A step no version words for the act: its title is the best we have.
    return step.title.get(language)


def answer_text(
    step: Step, answer: Answer, language: reports.Language, site: GeoPoint | None
) -> tuple[str, str | None]:
    """(the answer in human words, evidence or None) for one step kind."""
    value = answer.value
    if isinstance(step, GeoCheckStep):
        return _arrival(step, answer, language, site)
    if isinstance(step, PhotoStep):
        count = len(answer.photo_ids)
        return label("answer.photo" if count == 1 else "answer.photos", language, count=count), None
    if isinstance(step, ConfirmStep | YesNoStep):
        if isinstance(value, bool):
            return label("answer.yes" if value else "answer.no", language), None
        return "", None
    if isinstance(step, ChoiceStep):
        for option in step.options:
            if option.value == value:
                return option.label.get(language), None
        return "", None
    if isinstance(step, NumberStep):
        return _number(value, step, language), None
    if isinstance(step, SerialStep):
        return ", ".join(serials(value)), None
    if isinstance(step, TextStep | PersonNameStep):
        return (value.strip() if isinstance(value, str) else ""), None
    if isinstance(step, SignatureStep):
        return "", None  # the signature is the act itself, not a row of it
    return "", None


def serials(value: Any) -> list[str]:
    """Serial numbers of a serial step's answer, in the order given, without blanks."""
    if not isinstance(value, tuple | list):
        return []
    found = []
    for entry in value:
        text = entry.value if isinstance(entry, SerialEntry) else entry.get("value", "")
        if isinstance(text, str) and text.strip():
            found.append(text.strip())
    return found


def _number(value: Any, step: NumberStep, language: reports.Language) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    try:
        quantity = Decimal(str(value))
    except InvalidOperation:
        return ""
    return f"{format_quantity(quantity, language)} {step.unit.get(language)}"


def _arrival(
    step: GeoCheckStep, answer: Answer, language: reports.Language, site: GeoPoint | None
) -> tuple[str, str | None]:
    location = answer.location
    if location is None:
        return "", None
    if site is None:
        return label("answer.location_recorded", language), None
    distance = haversine_m(site.lat, site.lon, location.lat, location.lon)
    within = distance <= step.radius_m
    answer_key = "answer.at_site" if within else "answer.away_from_site"
    metres = format_distance(distance, language)
    if location.accuracy_m is None:
        evidence = label("evidence.distance_no_accuracy", language, distance=metres)
    else:
        accuracy = _round_metres(location.accuracy_m)
        evidence = label("evidence.distance", language, distance=metres, accuracy=accuracy)
    return label(answer_key, language), evidence


def _round_metres(value: float) -> int:
    # Metres are all a customer can check against a door; GPS is no better than that.
    return round(value)


# Equipment ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InstalledRecord:
    """One item the technician recorded as installed (a visit record), as the act needs it."""

    name: str
    serial: str
    model: str = ""
    # Serial of the unit taken out when this one replaced it.
    replaces_serial: str = ""


def equipment_lines(
    *,
    order_items: Sequence[Mapping[str, Any]],
    installed: Sequence[InstalledRecord],
    checklist_serials: Iterable[str],
    language: reports.Language,
) -> tuple[reports.EquipmentLine, ...]:
    """The act's equipment table: what was installed or replaced, with serial numbers.

    Items recorded on site replace the order's list (they are what was actually left); with
    only serials scanned, the order's items carrying those serials are named; with nothing
    recorded at all, the order's list stands (callers drafting from a visit pass no lines
    instead). Serials answered in the checklist (repairs record them there) that no item
    carries become lines of their own, so no installed or replacement unit is missing.
    """
    lines: list[reports.EquipmentLine] = []
    pcs = unit_name("pcs", language)
    if installed:
        for item in installed:
            lines.append(
                reports.EquipmentLine(
                    name=item.name[:300],
                    model=item.model[:300],
                    serial=item.serial[:300],
                    quantity=Decimal(1),
                    unit=pcs,
                    action="replaced" if item.replaces_serial else "installed",
                    replaced_serial=item.replaces_serial[:300] or UNSET,
                )
            )
    else:
        scanned = set(checklist_serials := list(checklist_serials))
        for order_item in order_items:
            # Serials scanned on site: a planned item is named only when its serial was scanned.
            if scanned and str(order_item.get("serial") or "") not in scanned:
                continue
            lines.append(
                reports.EquipmentLine(
                    name=str(order_item["name"])[:300],
                    model=str(order_item.get("model") or "")[:300],
                    serial=str(order_item.get("serial") or "")[:300],
                    quantity=_quantity(order_item.get("quantity", 1)),
                    unit=unit_name(str(order_item.get("unit") or "pcs"), language)[:20],
                    action="installed",
                )
            )
    listed = {line.serial for line in lines if line.serial}
    for serial in checklist_serials:
        if serial in listed:
            continue
        listed.add(serial)
        lines.append(
            reports.EquipmentLine(
                name=label("equipment_unnamed", language),
                serial=serial[:300],
                quantity=Decimal(1),
                unit=pcs,
                action="installed",
            )
        )
    return tuple(lines)


def _quantity(value: Any) -> Decimal:
    try:
        quantity = Decimal(str(value))
    except InvalidOperation:
        return Decimal(1)
    if not quantity.is_finite() or quantity <= 0:
        return Decimal(1)
    # 1.0 and 1 must print (and hash) alike.
    return quantity.quantize(Decimal(1)) if quantity == quantity.to_integral_value() else quantity
