"""Template definitions (what a YAML file holds) and the answers a technician sends."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

import msgspec

Lang = Literal["ru", "kk", "en"]
LANGS: tuple[Lang, ...] = ("ru", "kk", "en")

Outcome = Literal[
    "completed",
    "no_access",
    "waiting_for_adult",
    "aborted_safety",
    "needs_revisit",
    "customer_refused_to_sign",
]
OUTCOMES: tuple[Outcome, ...] = (
    "completed",
    "no_access",
    "waiting_for_adult",
    "aborted_safety",
    "needs_revisit",
    "customer_refused_to_sign",
)

Evidence = Literal["timestamp", "location", "photo"]
SerialMethod = Literal["scanned", "typed"]

Identifier = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
NonEmptyText = Annotated[str, msgspec.Meta(min_length=1)]
Count = Annotated[int, msgspec.Meta(ge=0)]


class Definition(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True, kw_only=True
):
    """Base of every template structure: immutable, strict, defaults left out of the encoding.

    Leaving defaults out keeps content hashes of published templates stable when a new
    optional field is added to the schema later.
    """


class Text(Definition, frozen=True, kw_only=True):
    """One piece of text in Russian, Kazakh and English."""

    ru: NonEmptyText
    kk: NonEmptyText
    en: NonEmptyText
    # Set once a native speaker has checked the Kazakh; until then tools list it for review.
    # Unreviewed is the default so that a newly written string can never pass as checked.
    kk_reviewed: bool = False

    def get(self, lang: Lang) -> str:
        """The text in the given language."""
        if lang == "ru":
            return self.ru
        if lang == "kk":
            return self.kk
        return self.en


class Option(Definition, frozen=True, kw_only=True):
    """One answer a choice step offers."""

    value: Identifier
    label: Text


class StepBase(Definition, frozen=True, tag_field="kind", kw_only=True):
    """Fields every step has; `kind` selects the concrete step type."""

    id: Identifier
    title: Text
    help: Text | None = None
    required: bool = True
    # A condition over earlier answers (see expressions.py); the step is shown only when true.
    visible_when: str | None = None
    evidence: tuple[Evidence, ...] = ()
    # Where the rule comes from, e.g. "000 §12"; for people reading the template.
    source: str | None = None
    # What the customer's act says was done, in the past tense ("Предъявлено служебное
    # удостоверение"); the answer is printed beside it. `title` is the technician's wording.
    statement: Text | None = None
    # Kept in the internal record only, never printed on the customer's act (e.g. why the
    # arrival position was far from the site). Every step of an internal phase is internal.
    internal: bool = False


class ConfirmStep(StepBase, frozen=True, tag="confirm", kw_only=True):
    """A statement the technician confirms; the only valid answer is true."""

    # This confirmation covers the template's standing rules (see Template.standing_rules).
    acknowledges_standing_rules: bool = False


class YesNoStep(StepBase, frozen=True, tag="yes_no", kw_only=True):
    """A question answered yes (true) or no (false)."""


class ChoiceStep(StepBase, frozen=True, tag="choice", kw_only=True):
    """One option out of a fixed list; the answer is the option's value."""

    options: tuple[Option, ...]


class TextStep(StepBase, frozen=True, tag="text", kw_only=True):
    """Free text, non-blank."""

    max_length: int = 2000


class NumberStep(StepBase, frozen=True, tag="number", kw_only=True):
    """A number with a unit and an optional inclusive range."""

    unit: Text
    min: float | None = None
    max: float | None = None


class PersonNameStep(StepBase, frozen=True, tag="person_name", kw_only=True):
    """How a person asked to be addressed (e.g. the acceptor of the work)."""

    max_length: int = 200


class PhotoStep(StepBase, frozen=True, tag="photo", kw_only=True):
    """Photos of the work; the answer's `photo_ids` are the photos."""

    min_count: Count = 1
    max_count: Count = 10


class SignatureStep(StepBase, frozen=True, tag="signature", kw_only=True):
    """A customer's signature; the answer's value is the signature (or signed act) id."""

    # Which act is signed, e.g. completion_act or handover_act.
    document: Identifier


class GeoCheckStep(StepBase, frozen=True, tag="geo_check", kw_only=True):
    """Presence at the site; the answer's `location` is compared with the site's position."""

    radius_m: float = 300.0


class SerialStep(StepBase, frozen=True, tag="serial", kw_only=True):
    """Serial numbers, scanned or typed; the answer's value is a list of entries."""

    min_count: Count = 1
    max_count: Count = 1


Step = (
    ConfirmStep
    | YesNoStep
    | ChoiceStep
    | TextStep
    | NumberStep
    | PersonNameStep
    | PhotoStep
    | SignatureStep
    | GeoCheckStep
    | SerialStep
)


def step_kind(step: Step) -> str:
    """The step's `kind` tag, e.g. "yes_no"."""
    tag = step.__struct_config__.tag
    assert isinstance(tag, str)
    return tag


class Requirement(Definition, frozen=True, kw_only=True):
    """One condition of a gate: a step answered, optionally with a given value."""

    step: Identifier
    # When set, the answer must equal this value (e.g. adult_present must be true).
    equals: bool | int | float | str | None = None
    # Shown when the step is answered with another value; a generic text is used otherwise.
    message: Text | None = None


class Phase(Definition, frozen=True, kw_only=True):
    """A stage of the visit; its gate must hold before any of its steps may be answered."""

    id: Identifier
    title: Text
    gate: tuple[Requirement, ...] = ()
    steps: tuple[Step, ...]
    # Preparation the customer never sees (before departure): out of the customer's act.
    internal: bool = False


class Incident(Definition, frozen=True, kw_only=True):
    """What the service must raise when an outcome is recorded (e.g. a safety incident)."""

    # The API's name for it: "Incident" is the raised incident (service/incidents) there.
    __schema_name__: ClassVar[str] = "IncidentRule"

    kind: Identifier
    notify: tuple[Identifier, ...]
    # Who is told when nobody in `notify` can be reached (004 §5.4.10.5: else security).
    fallback_notify: tuple[Identifier, ...] = ()


class OutcomeDefinition(Definition, frozen=True, kw_only=True):
    """How a visit may end, with what it needs and what it triggers."""

    id: Outcome
    title: Text
    # Explains the outcome to the technician, e.g. "do not enter; wait for an adult".
    message: Text | None = None
    # A non-final outcome (waiting_for_adult) may still turn into another one.
    final: bool = True
    # Holds automatically when this condition over the answers is true.
    auto_when: str | None = None
    gate: tuple[Requirement, ...] = ()
    # Details recorded with this outcome, visible only once the outcome is declared.
    steps: tuple[Step, ...] = ()
    incident: Incident | None = None


class StandingRule(Definition, frozen=True, kw_only=True):
    """A rule that holds for the whole visit and is acknowledged once, not per step."""

    id: Identifier
    text: Text
    source: str | None = None


class Template(Definition, frozen=True, kw_only=True, weakref=True):
    """One published version of a visit checklist for one work type."""

    key: Identifier
    version: Annotated[int, msgspec.Meta(ge=1)]
    title: Text
    description: Text | None = None
    standing_rules: tuple[StandingRule, ...] = ()
    phases: tuple[Phase, ...]
    outcomes: tuple[OutcomeDefinition, ...]


class GeoPoint(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A WGS 84 position, e.g. the site of a work order."""

    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)]


class Location(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """A device position with its reported accuracy in metres."""

    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)]
    accuracy_m: Annotated[float, msgspec.Meta(ge=0)] | None = None


class SerialEntry(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One serial number and how it was captured."""

    value: str
    method: SerialMethod


AnswerValue = bool | int | float | str | tuple[SerialEntry, ...] | None


class Answer(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """A technician's answer to one step, with optional evidence.

    `value` by step kind: confirm true; yes_no bool; choice option value; text, person_name
    str; number int or float; signature the signature id; serial a list of {value, method}.
    Photo steps carry their photos in `photo_ids` and geo_check steps their position in
    `location`; their `value` stays null.
    """

    step_id: str
    value: AnswerValue = None
    # Device time, RFC 3339 with offset.
    answered_at: datetime | None = None
    location: Location | None = None
    photo_ids: tuple[str, ...] = ()
