"""`checklists` commands: validate templates, show one, simulate a visit's answers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import click
import msgspec

from checklists.compiled import CompiledTemplate
from checklists.engine import evaluate
from checklists.errors import TemplateError, UnknownOutcome, UnknownTemplate
from checklists.hashing import content_hash
from checklists.loader import TEMPLATES_DIR, check_directory, load_templates
from checklists.messages import format_number
from checklists.schema import (
    LANGS,
    OUTCOMES,
    Answer,
    ChoiceStep,
    ConfirmStep,
    GeoCheckStep,
    GeoPoint,
    Lang,
    NumberStep,
    Outcome,
    PhotoStep,
    Requirement,
    SerialStep,
    SignatureStep,
    Step,
    Text,
    step_kind,
)
from checklists.texts import iter_texts, needs_native_review

_TextFn = Callable[[Text, str], str]

_lang_option = click.option(
    "--lang", type=click.Choice(LANGS), default="ru", show_default=True, help="Language of texts."
)
_dir_option = click.option(
    "--dir",
    "directory",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Template directory (default: the shipped templates).",
)
_version_option = click.option(
    "--version", type=int, default=None, help="Version (default: latest)."
)


class SimulationInput(msgspec.Struct, forbid_unknown_fields=True):
    """The ANSWERS.json accepted by `simulate` (a bare list of answers also works)."""

    answers: tuple[Answer, ...] = ()
    site: GeoPoint | None = None
    outcome: Outcome | None = None


@click.group("checklists")
def checklists_group() -> None:
    """Visit checklist templates: validate, show, simulate."""


@checklists_group.command("validate")
@click.argument(
    "directory",
    required=False,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)
def validate_command(directory: Path | None) -> None:
    """Validate every template in DIRECTORY (default: the shipped templates)."""
    templates, issues = check_directory(directory)
    for template in templates:
        click.echo(f"ok    {template.key} v{template.version}  sha256:{content_hash(template)}")
    for issue in issues:
        click.echo(f"error {issue.describe()}", err=True)
    if issues:
        raise SystemExit(1)
    click.echo(f"{len(templates)} template(s) valid in {directory or TEMPLATES_DIR}")


@checklists_group.command("show")
@click.argument("key")
@_lang_option
@_version_option
@_dir_option
def show_command(key: str, lang: Lang, version: int | None, directory: Path | None) -> None:
    """List the phases, steps and outcomes of template KEY."""
    compiled = _load(key, version, directory)
    for line in _describe(compiled, lang):
        click.echo(line)


@checklists_group.command("simulate")
@click.argument("key")
@click.argument("answers_file", metavar="ANSWERS.json", type=click.File("rb"))
@_lang_option
@_version_option
@_dir_option
@click.option("--outcome", type=click.Choice(OUTCOMES), default=None, help="Declared outcome.")
def simulate_command(
    key: str,
    answers_file: BinaryIO,
    lang: Lang,
    version: int | None,
    directory: Path | None,
    outcome: Outcome | None,
) -> None:
    """Print the engine state of template KEY for the answers in ANSWERS.json."""
    compiled = _load(key, version, directory)
    data = _read_simulation(answers_file.read())
    answers: dict[str, Answer] = {}
    for answer in data.answers:
        if answer.step_id in answers:
            raise click.ClickException(f"step {answer.step_id!r} is answered twice")
        answers[answer.step_id] = answer
    try:
        state = evaluate(
            compiled, answers, lang=lang, site=data.site, outcome=outcome or data.outcome
        )
    except UnknownOutcome as error:
        raise click.ClickException(str(error)) from None
    click.echo(msgspec.json.format(msgspec.json.encode(state), indent=2).decode())


def _read_simulation(raw: bytes) -> SimulationInput:
    try:
        decoded = msgspec.json.decode(raw, type=SimulationInput | list[Answer])
    except msgspec.DecodeError as error:
        raise click.ClickException(f"ANSWERS.json: {error}") from None
    if isinstance(decoded, list):
        return SimulationInput(answers=tuple(decoded))
    return decoded


def _load(key: str, version: int | None, directory: Path | None) -> CompiledTemplate:
    try:
        return load_templates(directory).get(key, version)
    except TemplateError as error:
        raise click.ClickException(f"invalid templates:\n{error}") from None
    except UnknownTemplate as error:
        raise click.ClickException(str(error)) from None


# ---------------------------------------------------------------------------- show


def _describe(compiled: CompiledTemplate, lang: Lang) -> list[str]:
    template = compiled.template
    review = set(needs_native_review(template))

    def text(value: Text, path: str) -> str:
        mark = " [kk: needs review]" if lang == "kk" and path in review else ""
        return value.get(lang) + mark

    lines = [
        f"{template.key} v{template.version} — {text(template.title, '$.title')}",
        f"sha256:{compiled.content_hash}",
    ]
    if template.standing_rules:
        lines += ["", "Standing rules (acknowledged once):"]
        for index, rule in enumerate(template.standing_rules):
            lines.append(f"  - {rule.id}: {text(rule.text, f'$.standing_rules[{index}].text')}")
    for p_index, phase in enumerate(template.phases):
        path = f"$.phases[{p_index}]"
        internal = " (internal: not on the customer's act)" if phase.internal else ""
        lines += [
            "",
            f"{p_index + 1}. {phase.id} — {text(phase.title, f'{path}.title')}{internal}",
        ]
        if phase.gate:
            lines.append(f"   gate: {_gate(compiled, phase.gate, lang)}")
        for s_index, step in enumerate(phase.steps):
            lines += _describe_step(step, f"{path}.steps[{s_index}]", text)
    lines += ["", "Outcomes:"]
    for o_index, outcome in enumerate(template.outcomes):
        path = f"$.outcomes[{o_index}]"
        traits = ["final" if outcome.final else "not final"]
        if outcome.auto_when:
            traits.append(f"automatic when {outcome.auto_when}")
        lines.append(
            f"  {outcome.id} — {text(outcome.title, f'{path}.title')} ({', '.join(traits)})"
        )
        if outcome.message:
            lines.append(f"      {text(outcome.message, f'{path}.message')}")
        if outcome.gate:
            lines.append(f"      gate: {_gate(compiled, outcome.gate, lang)}")
        if outcome.incident:
            incident = outcome.incident
            fallback = (
                f" (else {', '.join(incident.fallback_notify)})" if incident.fallback_notify else ""
            )
            lines.append(
                f"      incident: {incident.kind} → {', '.join(incident.notify)}{fallback}"
            )
        for s_index, step in enumerate(outcome.steps):
            lines += [
                "  " + line for line in _describe_step(step, f"{path}.steps[{s_index}]", text)
            ]
    total = sum(1 for _ in iter_texts(template))
    lines += ["", f"Kazakh awaiting native review: {len(review)} of {total} texts"]
    return lines


def _describe_step(step: Step, path: str, text: _TextFn) -> list[str]:
    traits = [step_kind(step), "required" if step.required else "optional"]
    if step.internal:
        traits.append("internal")
    traits += _kind_traits(step)
    if step.evidence:
        traits.append("evidence: " + "+".join(step.evidence))
    lines = [f"   - {step.id} [{', '.join(traits)}]", f"       {text(step.title, f'{path}.title')}"]
    if step.statement is not None:
        lines.append(f"       act: {text(step.statement, f'{path}.statement')}")
    if step.visible_when:
        lines.append(f"       shown when: {step.visible_when}")
    if isinstance(step, ChoiceStep):
        for index, option in enumerate(step.options):
            label = text(option.label, f"{path}.options[{index}].label")
            lines.append(f"         • {option.value}: {label}")
    if step.help:
        lines.append(f"       help: {text(step.help, f'{path}.help')}")
    return lines


def _kind_traits(step: Step) -> list[str]:
    if isinstance(step, NumberStep):
        low = format_number(step.min) if step.min is not None else "…"
        high = format_number(step.max) if step.max is not None else "…"
        return [f"{low}..{high} {step.unit.en}"]
    if isinstance(step, (PhotoStep, SerialStep)):
        return [f"{step.min_count}..{step.max_count}"]
    if isinstance(step, GeoCheckStep):
        return [f"within {format_number(step.radius_m)} m"]
    if isinstance(step, SignatureStep):
        return [step.document]
    if isinstance(step, ConfirmStep) and step.acknowledges_standing_rules:
        return ["acknowledges standing rules"]
    return []


def _gate(compiled: CompiledTemplate, gate: tuple[Requirement, ...], lang: Lang) -> str:
    parts = []
    for requirement in gate:
        if requirement.equals is None:
            parts.append(f"{requirement.step} answered")
        else:
            parts.append(f"{requirement.step} = {_literal(requirement.equals, lang)}")
    return "; ".join(parts)


def _literal(value: bool | int | float | str, lang: Lang) -> str:
    if isinstance(value, bool):
        return {"ru": ("да", "нет"), "kk": ("иә", "жоқ"), "en": ("yes", "no")}[lang][not value]
    return str(value)
