"""Appeal and complaint schemas."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from service.common.i18n import Language
from service.common.schemas import AwareDatetime, Name, Phone

AppealKind = Literal["question", "request", "complaint", "quality_claim"]
AppealChannel = Literal["phone", "visit", "office", "letter", "web"]
StaffChannel = Literal["phone", "visit", "office", "letter"]
ReplyChannel = Literal["sms", "email"]
AppealState = Literal["registered", "in_progress", "answered", "refused"]
Decision = Literal["justified", "partly", "unjustified"]
RefusalGround = Literal[
    "abusive", "repeat_without_new_facts", "protected_secret", "unreadable", "substance_unclear"
]
ClockStatus = Literal["running", "warning", "met", "breached"]
DayKind = Literal["calendar", "working"]
AppealText = Annotated[str, msgspec.Meta(min_length=1, max_length=8000)]
Email = Annotated[
    str, msgspec.Meta(pattern=r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{2,}$", max_length=254)
]
Reasons = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
ReasonCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,39}$")]


class AppealCreate(msgspec.Struct, forbid_unknown_fields=True):
    """An appeal registered by staff from a call, a visit, an office visit or a letter."""

    kind: AppealKind
    channel: StaffChannel
    territory_id: uuid.UUID
    author_name: Name
    text: AppealText
    reply_channel: ReplyChannel = "sms"
    language: Language | None = None
    contact_phone: Phone | None = None
    contact_email: Email | None = None
    customer_id: uuid.UUID | None = None
    work_order_id: uuid.UUID | None = None
    visit_id: uuid.UUID | None = None
    act_id: uuid.UUID | None = None
    registered_at: Annotated[
        AwareDatetime | None,
        msgspec.Meta(description="When a letter was received, if not now (not in the future)"),
    ] = None


class Attachment(msgspec.Struct):
    """A stored attachment."""

    id: uuid.UUID
    content_type: str
    size: int
    sha256: str
    created_at: datetime


class Note(msgspec.Struct):
    """An internal note."""

    id: uuid.UUID
    author_id: uuid.UUID | None
    text: str
    created_at: datetime


class NoteCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A new internal note."""

    text: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]


class UnitRequest(msgspec.Struct):
    """A request to another unit."""

    id: uuid.UUID
    unit: str
    question: str
    due_at: datetime
    answer: str | None
    answered_at: datetime | None
    overdue: bool
    created_at: datetime


class UnitRequestCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Ask another unit for documents or facts by a date."""

    unit: Name
    question: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
    due_at: AwareDatetime


class UnitRequestAnswer(msgspec.Struct, forbid_unknown_fields=True):
    """What the other unit answered."""

    answer: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]


class Measure(msgspec.Struct):
    """A corrective measure."""

    id: uuid.UUID
    description: str
    owner_id: uuid.UUID
    due_at: datetime
    done_at: datetime | None
    created_at: datetime


class MeasureCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A corrective measure for a justified complaint: what, who, by when."""

    description: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
    owner_id: uuid.UUID
    due_at: AwareDatetime


class DecisionCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A complaint's decision with its reasons and the reasons' taxonomy codes."""

    decision: Decision
    reasons: Reasons
    reason_codes: Annotated[list[ReasonCode], msgspec.Meta(max_length=10)] = []


class AppealRefusal(msgspec.Struct, forbid_unknown_fields=True):
    """Leave the appeal unconsidered, on one of the listed grounds only (customer notified)."""

    ground: RefusalGround
    note: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class AnswerCreate(msgspec.Struct, forbid_unknown_fields=True):
    """The answer on the merits; the letter is rendered from it."""

    merits: Annotated[str, msgspec.Meta(min_length=1, max_length=8000)]


class AppealUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Take the appeal, give it to someone, extend the deadline (within the maximum)."""

    owner_id: uuid.UUID | msgspec.UnsetType = msgspec.UNSET
    due_at: AwareDatetime | msgspec.UnsetType = msgspec.UNSET
    extension_reason: Annotated[str, msgspec.Meta(min_length=3, max_length=2000)] | None = None
    outside_competence: bool | msgspec.UnsetType = msgspec.UNSET


class AppealClock(msgspec.Struct):
    """The appeal's control deadline as a clock."""

    status: ClockStatus
    due_at: datetime
    warning_at: datetime
    max_due_at: datetime
    competence_due_at: datetime
    closed_at: datetime | None


class Letter(msgspec.Struct):
    """The answer letter's record."""

    public_id: str
    language: str
    pdf_sha256: str
    snapshot_sha256: str
    sealed: bool
    verify_url: str
    created_at: datetime


class Appeal(msgspec.Struct):
    """An appeal with its clock and its work."""

    id: uuid.UUID
    number: str
    territory_id: uuid.UUID
    kind: AppealKind
    channel: AppealChannel
    reply_channel: ReplyChannel
    language: Language
    state: AppealState
    author_name: str
    text: str
    contact_phone: str | None
    contact_email: str | None
    customer_id: uuid.UUID | None
    work_order_id: uuid.UUID | None
    visit_id: uuid.UUID | None
    act_id: uuid.UUID | None
    owner_id: uuid.UUID | None
    registered_at: datetime
    clock: AppealClock
    decision: Decision | None
    decision_reasons: str | None
    reason_codes: list[str]
    refusal_ground: RefusalGround | None
    refusal_note: str | None
    answer_text: str | None
    answered_at: datetime | None
    outside_competence_at: datetime | None
    repeat_of_id: uuid.UUID | None
    attachments: list[Attachment] = []
    notes: list[Note] = []
    requests: list[UnitRequest] = []
    measures: list[Measure] = []
    letter: Letter | None = None
    status_url: Annotated[
        str | None, msgspec.Meta(description="The customer's status page (kept from them: PII)")
    ] = None


class AppealSummary(msgspec.Struct):
    """One row of the list."""

    id: uuid.UUID
    number: str
    territory_id: uuid.UUID
    kind: AppealKind
    channel: AppealChannel
    state: AppealState
    owner_id: uuid.UUID | None
    registered_at: datetime
    due_at: datetime
    clock_status: ClockStatus


class AppealPage(msgspec.Struct):
    """A page of appeals, newest first."""

    items: list[AppealSummary]
    next_cursor: str | None = None


class PolicyView(msgspec.Struct):
    """A kind's control deadlines."""

    kind: AppealKind
    merits_days: int
    max_days: int
    day_kind: DayKind
    competence_working_days: int
    warning_ratio: float


class PolicyUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """New deadlines for a kind (applies to appeals registered afterwards)."""

    merits_days: Annotated[int, msgspec.Meta(ge=1, le=60)]
    max_days: Annotated[int, msgspec.Meta(ge=1, le=60)]
    day_kind: DayKind
    competence_working_days: Annotated[int, msgspec.Meta(ge=1, le=30)] = 5
    warning_ratio: Annotated[float, msgspec.Meta(gt=0, lt=1)] = 0.7


class ReasonView(msgspec.Struct):
    """An entry of the complaint-reason taxonomy."""

    code: str
    names: dict[str, str]
    active: bool


class ReasonNames(msgspec.Struct, forbid_unknown_fields=True):
    """A reason's names in the three languages."""

    ru: Name
    kk: Name
    en: Name


class ReasonPut(msgspec.Struct, forbid_unknown_fields=True):
    """Create or rename a reason, or retire it (``active`` false)."""

    names: ReasonNames
    active: bool = True


class CountRow(msgspec.Struct):
    """A count under a key (a reason code, territory, work type or technician)."""

    key: str
    complaints: int
    name: Annotated[
        str | None, msgspec.Meta(description="The territory's or technician's name")
    ] = None


class AppealRef(msgspec.Struct):
    """An appeal named by its number."""

    id: uuid.UUID
    number: str
    registered_at: datetime


class RepeatCustomer(msgspec.Struct):
    """A customer who complained again within the repeat window, with those complaints."""

    customer_id: uuid.UUID
    name: str
    complaints: Annotated[
        int, msgspec.Meta(description="The period's repeats and the complaints they repeat")
    ]
    appeals: list[AppealRef]


Share = Annotated[float | None, msgspec.Meta(description="0..1; null when the base is empty")]


class ReasonCount(msgspec.Struct):
    """Complaints of one reason code."""

    code: str
    complaints: int
    share: Annotated[float | None, msgspec.Meta(description="Of the period's complaints")]


class AppealKpi(msgspec.Struct):
    """Appeals and complaints of the period (seed 001 §6.1-6.2), in the KPI response."""

    registered: Annotated[int, msgspec.Meta(description="Appeals registered in the period")]
    complaints: Annotated[
        int, msgspec.Meta(description="Of those, complaints and claims on quality")
    ]
    repeat_complaints: Annotated[
        int,
        msgspec.Meta(description="Of those, repeating the customer's complaint of 90 days before"),
    ]
    due: Annotated[
        int,
        msgspec.Meta(
            description="Appeals whose answer deadline fell in the period, already answered or "
            "refused, or past it (one due later today and still open is not counted yet)"
        ),
    ]
    answered_on_time: Annotated[
        int, msgspec.Meta(description="Of those, answered or refused by their deadline")
    ]
    on_time_share: Share
    overdue_open: Annotated[
        int, msgspec.Meta(description="Open appeals past their deadline now (any period)")
    ]
    top_reasons: Annotated[
        list[ReasonCount],
        msgspec.Meta(description="The most frequent reasons of the period's complaints, up to 5"),
    ]


class Analysis(msgspec.Struct):
    """Complaint figures of a period in the caller's territories."""

    since: datetime
    until: datetime
    appeals: int
    complaints: int
    closed: int
    closed_on_time: int
    on_time_share: Annotated[float | None, msgspec.Meta(description="closed on time / closed")]
    repeat_complaints: int
    by_reason: list[CountRow]
    by_territory: list[CountRow]
    by_work_type: list[CountRow]
    by_technician: list[CountRow]
    due: Annotated[
        int, msgspec.Meta(description="Deadlines in the period, as in the KPIs' appeals.due")
    ] = 0
    due_answered_on_time: int = 0
    due_on_time_share: Share = None
    overdue_open: Annotated[int, msgspec.Meta(description="Open and past the deadline now")] = 0
    complaints_without_reason: Annotated[
        int, msgspec.Meta(description="The period's complaints with no reason code yet")
    ] = 0
    repeat_customers: Annotated[
        list[RepeatCustomer], msgspec.Meta(description="Up to 50, most complaints first")
    ] = msgspec.field(default_factory=list)


class PublicStatus(msgspec.Struct):
    """What the customer's status link shows: no names, no text."""

    number: str
    state: AppealState
    kind: AppealKind
    registered_at: datetime
    due_at: datetime
    time_zone: str
    letter_url: str | None = None


class LetterVerification(msgspec.Struct):
    """A letter's public record: no names, no text."""

    public_id: str
    appeal_number: str
    letter_date: str
    language: str
    issuer: str
    snapshot_sha256: str
    pdf_sha256: str
    sealed_pdf_sha256: str | None
    audit_hash: str | None
    verify_url: str
