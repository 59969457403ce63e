"""Visit checklists: versioned YAML templates and a pure engine (no database, no network).

Typical use by the service::

    templates = load_templates()                     # once per process
    pin = templates.pin("installation")              # stored when a visit starts
    template = templates.resolve(pin)                # later, the exact pinned version
    validate_answer(template, answers, answer)       # raises AnswerRejected -> 422
    state = evaluate(template, answers, lang="kk", site=site, outcome=None)
"""

from checklists.answers import AnswerErrorCode
from checklists.compiled import CompiledTemplate, compile_template
from checklists.engine import (
    AnswerIssue,
    BlockingReason,
    ChecklistState,
    Compliance,
    EvidenceGap,
    Flag,
    PhaseState,
    evaluate,
    validate_answer,
)
from checklists.errors import (
    AnswerRejected,
    PinMismatch,
    TemplateError,
    TemplateIssue,
    UnknownOutcome,
    UnknownTemplate,
    VersionConflict,
)
from checklists.expressions import ConditionError, parse_condition
from checklists.geo import haversine_m
from checklists.hashing import canonical_json, content_hash
from checklists.loader import (
    TEMPLATES_DIR,
    check_directory,
    load_template_file,
    load_templates,
    parse_template,
)
from checklists.schema import (
    LANGS,
    OUTCOMES,
    Answer,
    GeoPoint,
    Incident,
    Lang,
    Location,
    Outcome,
    SerialEntry,
    Step,
    Template,
    Text,
)
from checklists.texts import needs_native_review
from checklists.validation import validate_template
from checklists.versioning import Pin, TemplateSet

__all__ = [
    "LANGS",
    "OUTCOMES",
    "TEMPLATES_DIR",
    "Answer",
    "AnswerErrorCode",
    "AnswerIssue",
    "AnswerRejected",
    "BlockingReason",
    "ChecklistState",
    "CompiledTemplate",
    "Compliance",
    "ConditionError",
    "EvidenceGap",
    "Flag",
    "GeoPoint",
    "Incident",
    "Lang",
    "Location",
    "Outcome",
    "PhaseState",
    "Pin",
    "PinMismatch",
    "SerialEntry",
    "Step",
    "Template",
    "TemplateError",
    "TemplateIssue",
    "TemplateSet",
    "Text",
    "UnknownOutcome",
    "UnknownTemplate",
    "VersionConflict",
    "canonical_json",
    "check_directory",
    "compile_template",
    "content_hash",
    "evaluate",
    "haversine_m",
    "load_template_file",
    "load_templates",
    "needs_native_review",
    "parse_condition",
    "parse_template",
    "validate_answer",
    "validate_template",
]
