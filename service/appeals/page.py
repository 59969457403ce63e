"""The customer's side of appeals: the public form, the status page behind the customer's link,
the answer letter's download from it, and the letter's public verification.

The form is linked from the act copy, the rating page and the act verification page (``?act=``
carries the act's public id, which ties the appeal to the visit, order, customer and territory).
It is rate-limited per address like the login (``auth.throttle`` surface ``appeal``) and carries
a hidden field people never fill: a filled one is refused and nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any, cast
from zoneinfo import ZoneInfo

import msgspec
from babel.dates import format_date
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.openapi import ResponseSpec
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy import select

from service.acts.page import public_html
from service.acts.services import find_public
from service.appeals import schemas
from service.appeals.letters import find_letter
from service.appeals.multipart import undecodable_part, uploaded
from service.appeals.services import (
    MAX_ATTACHMENT_BYTES,
    AppealCore,
    NewAppeal,
    _invalid,
    find_by_status_token,
    letter_url,
)
from service.appeals.verify_page import render_letter_not_found, render_letter_verification
from service.common.i18n import Language, Message, in_language, msg, pick_language
from service.common.page_security import new_page_nonce, page_headers
from service.common.params import AppSettings, DbSession
from service.common.schemas import Phone
from service.db.models import Territory, WorkOrder
from service.errors import (
    PROBLEM_JSON,
    FieldError,
    NotFound,
    Problem,
    ValidationFailed,
    domain_error_handler,
    validation_errors,
)
from service.sla.calendar import last_local_day
from service.storage import provide_blob_store

LANGUAGE_NAMES = (("kk", "Қазақша"), ("ru", "Русский"), ("en", "English"))
# Kazakh texts await a native speaker's review, as the other customer-facing texts do.
_TEXTS: dict[str, Message] = {
    "title": msg("appeal.title", "Appeal or complaint"),
    "language": msg("appeal.language", "Language"),
    "intro": msg(
        "appeal.intro",
        "Write to us: we register your appeal at once and answer within the deadline.",
    ),
    "about": msg("appeal.about", "About act {number}"),
    "kind": msg("appeal.kind", "What is it?"),
    "kind.question": msg("appeal.kind.question", "A question"),
    "kind.request": msg("appeal.kind.request", "A request"),
    "kind.complaint": msg("appeal.kind.complaint", "A complaint"),
    "kind.quality_claim": msg("appeal.kind.quality_claim", "A claim on the quality of work"),
    "territory": msg("appeal.territory", "Your area"),
    "name": msg("appeal.name", "Your full name"),
    "text": msg("appeal.text", "Your appeal"),
    "reply": msg("appeal.reply", "How should we answer?"),
    "reply.sms": msg("appeal.reply.sms", "By SMS"),
    "reply.email": msg("appeal.reply.email", "By email"),
    "phone": msg("appeal.phone", "Phone, e.g. +77011234567"),
    "email": msg("appeal.email", "Email"),
    "file": msg("appeal.file", "A photo or a PDF (optional, up to 10 MB)"),
    "submit": msg("appeal.submit", "Send"),
    "sending": msg("appeal.sending", "Sending…"),
    "done": msg(
        "appeal.done",
        "Your appeal is registered under number {number}. We will answer by {due}.",
    ),
    "done_link": msg("appeal.done_link", "Its status is always here:"),
    "error.required": msg("appeal.error.required", "Please fill in this field."),
    "error.phone": msg("appeal.error.phone", "Enter the phone as +77011234567."),
    "error.email": msg("appeal.error.email", "Enter an email address."),
    "error.file": msg(
        "appeal.error.file", "The file is not a photo or PDF, or it is larger than 10 MB."
    ),
    "error.busy": msg("appeal.error.busy", "Too many appeals from here. Please try later."),
    "error.other": msg("appeal.error.other", "The appeal was not sent. Please check the form."),
    "contact": msg("appeal.contact", "Or call {name}:"),
    "status.title": msg("appeal.status.title", "Appeal {number}"),
    "status.registered": msg("appeal.status.registered", "Registered on {date}."),
    "status.state": msg("appeal.status.state", "State:"),
    "status.due": msg("appeal.status.due", "Answer due by {date}."),
    "state.registered": msg("appeal.state.registered", "registered"),
    "state.in_progress": msg("appeal.state.in_progress", "being considered"),
    "state.answered": msg("appeal.state.answered", "answered"),
    "state.refused": msg("appeal.state.refused", "not considered"),
    "status.letter": msg("appeal.status.letter", "Download the answer letter (PDF)"),
    "status.refused": msg(
        "appeal.status.refused",
        "Your appeal cannot be considered: {ground}.",
    ),
    "ground.abusive": msg(
        "appeal.ground.abusive", "it contains obscene or insulting words or threats"
    ),
    "ground.repeat_without_new_facts": msg(
        "appeal.ground.repeat_without_new_facts",
        "the same question was already answered and no new facts are given",
    ),
    "ground.protected_secret": msg(
        "appeal.ground.protected_secret",
        "an answer would disclose a secret protected by law",
    ),
    "ground.unreadable": msg("appeal.ground.unreadable", "the text cannot be read"),
    "ground.substance_unclear": msg(
        "appeal.ground.substance_unclear", "the text does not say what the appeal is about"
    ),
    "status.outside": msg(
        "appeal.status.outside",
        "The question is outside our company's competence; please turn to the body in charge.",
    ),
    "status.invalid": msg("appeal.status.invalid", "This link is not valid."),
    "new": msg("appeal.new", "Write another appeal"),
}
KINDS = ("complaint", "quality_claim", "question", "request")


def texts(language: Language) -> dict[str, str]:
    """Every text of the appeal pages in one language."""
    return {key: in_language(entry, language) for key, entry in _TEXTS.items()}


def _date(value: Any, zone: str, language: Language) -> str:
    return _day(value.astimezone(ZoneInfo(zone)).date(), language)


def _day(day: date, language: Language) -> str:
    # Russian's long date ends in "г.", and the sentences around it end in their own period
    # ("до 13 декабря 2026 г.."): the date alone, without the abbreviation.
    pattern = "d MMMM y" if language == "ru" else "long"
    return format_date(day, pattern, locale=language)


def _last_day(due_at: datetime, zone: str, language: Language) -> str:
    """The last local day an answer may come on: a deadline at midnight ends the day before."""
    return _day(last_local_day(due_at, ZoneInfo(zone)), language)


class AppealSubmission(msgspec.Struct, forbid_unknown_fields=True):
    """The public form's fields (multipart); ``website`` is the field people never see."""

    kind: schemas.AppealKind
    author_name: Annotated[str, msgspec.Meta(max_length=200)]
    text: Annotated[str, msgspec.Meta(max_length=8000)]
    reply_channel: schemas.ReplyChannel
    language: Language = "ru"
    contact_phone: Annotated[str, msgspec.Meta(max_length=16)] = ""
    contact_email: Annotated[str, msgspec.Meta(max_length=254)] = ""
    act: Annotated[str, msgspec.Meta(max_length=32)] = ""
    territory: Annotated[str, msgspec.Meta(max_length=32)] = ""
    website: Annotated[str, msgspec.Meta(max_length=200)] = ""


@dataclass
class AppealForm:
    """Multipart body of the public form."""

    kind: str
    author_name: str
    text: str
    reply_channel: str
    language: str = "ru"
    contact_phone: str = ""
    contact_email: str = ""
    act: str = ""
    territory: str = ""
    website: str = ""
    file: UploadFile | None = field(default=None)


class AppealReceived(msgspec.Struct):
    """What the form shows after registration."""

    number: str
    due_at: str
    due_text: str
    status_url: str


def _unprocessable(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    return domain_error_handler(
        request,
        ValidationFailed(
            "The form does not match",
            errors=validation_errors(exc.extra) or None,
            code="invalid_form",
        ),
    )


class AppealPageController(Controller):
    """Public appeal pages: no account."""

    path = "/appeal"
    tags = ["appeals"]
    opt = {"exclude_from_auth": True}
    exception_handlers = {
        ValidationException: _unprocessable,
        UnicodeDecodeError: undecodable_part,
    }

    @get("/", operation_id="AppealForm", media_type=MediaType.HTML, include_in_schema=False)
    async def form(
        self,
        db_session: DbSession,
        settings: AppSettings,
        request: Request[Any, Any, Any],
        act: Annotated[str | None, QueryParameter(max_length=64)] = None,
        lang: Annotated[str | None, QueryParameter(max_length=8)] = None,
    ) -> Template:
        """The form, in the customer's language; tied to an act when opened from one."""
        found = await find_public(db_session, act) if act else None
        language = pick_language(
            lang,
            found.language if found else None,
            accept_language=request.headers.get("accept-language"),
        )
        territories = (
            await db_session.execute(
                select(Territory.code, Territory.name).order_by(Territory.name)
            )
        ).all()
        nonce = new_page_nonce()
        return Template(
            "appeal/form.html.j2",
            context={
                "lang": language,
                "nonce": nonce,
                "t": texts(language),
                "languages": LANGUAGE_NAMES,
                "act": found.public_id if found else "",
                "act_number": found.number if found else "",
                "territories": [] if found else territories,
                "kinds": KINDS,
                "phone": settings.issuer.phone,
                "company": settings.issuer.legal_name,
                "max_bytes": MAX_ATTACHMENT_BYTES,
                "query": f"act={found.public_id}&" if found else "",
            },
            headers={**page_headers(nonce), "Content-Language": language},
            media_type=MediaType.HTML,
        )

    @post(
        "/",
        operation_id="SubmitAppeal",
        status_code=201,
        request_max_body_size=MAX_ATTACHMENT_BYTES + 64 * 1024,
        responses={
            422: ResponseSpec(
                Problem,
                description="The form is incomplete",
                media_type=PROBLEM_JSON,
                generate_examples=False,
            )
        },
    )
    async def submit(
        self,
        data: Annotated[AppealForm, Body(media_type=RequestEncodingType.MULTI_PART)],
        db_session: DbSession,
        settings: AppSettings,
        state: State,
    ) -> AppealReceived:
        """Register an appeal from the public form; the answer carries the status link."""
        try:
            form = msgspec.convert(
                {k: v for k, v in data.__dict__.items() if k != "file" and v is not None},
                AppealSubmission,
            )
        except msgspec.ValidationError as exc:
            where = str(exc).rpartition("$.")[2].rstrip("`") or "form"
            raise _invalid(where, str(exc), "required") from None
        if form.website:
            # A bot filled the field people never see: refused, nothing stored.
            raise _invalid("website", "must be empty", "invalid_form")
        author = form.author_name.strip()
        text = form.text.strip()
        missing = [f for f, v in (("author_name", author), ("text", text)) if not v]
        if missing:
            raise ValidationFailed(
                "Fill in the form",
                errors=[_field(f, "required") for f in missing],
                code="required",
            )
        phone = form.contact_phone.strip() or None
        email = form.contact_email.strip() or None
        try:
            msgspec.convert({"p": phone, "e": email}, _Contacts)
        except msgspec.ValidationError as exc:
            where = "contact_email" if "$.e" in str(exc) else "contact_phone"
            raise _invalid(where, "malformed", "bad_contact") from None
        act_id = None
        if form.act:
            # The act ties the appeal to its visit, order, customer and territory (core derives
            # and checks the links); an act id that names no act is refused, not dropped.
            act = await find_public(db_session, form.act)
            if act is None:
                raise _invalid("act", "No act has this id", "unknown_act")
            act_id = act.id
            territory_id = await db_session.scalar(
                select(WorkOrder.territory_id).where(WorkOrder.id == act.work_order_id)
            )
        else:
            territory_id = await db_session.scalar(
                select(Territory.id).where(Territory.code == form.territory)
            )
        if territory_id is None:
            raise _invalid("territory", "required", "required")
        new = NewAppeal(
            kind=form.kind,
            channel="web",
            territory_id=territory_id,
            author_name=author,
            text=text,
            reply_channel=form.reply_channel,
            language=form.language,
            contact_phone=phone,
            contact_email=email,
            act_id=act_id,
        )
        files: list[tuple[bytes, str]] = []
        upload = uploaded(data.file)
        if upload is not None and upload.filename:
            content = await upload.read()
            if content:
                files.append((content, upload.content_type))
        core = AppealCore(db_session, settings, provide_blob_store(state))
        appeal = await core.create(new, None, files)
        zone = await db_session.scalar(
            select(Territory.time_zone).where(Territory.id == appeal.territory_id)
        )
        return AppealReceived(
            number=appeal.number,
            due_at=appeal.due_at.isoformat(),
            due_text=_last_day(appeal.due_at, str(zone), cast("Language", appeal.language)),
            status_url=core.status_url(appeal.id),
        )

    @get(
        "/status/{token:str}",
        operation_id="AppealStatus",
        media_type=MediaType.HTML,
        include_in_schema=False,
    )
    async def status(
        self,
        token: FromPath[str],
        db_session: DbSession,
        settings: AppSettings,
        request: Request[Any, Any, Any],
        lang: Annotated[str | None, QueryParameter(max_length=8)] = None,
    ) -> Template:
        """Registration number, state and due date; the letter once answered."""
        found = await find_by_status_token(db_session, token)
        nonce = new_page_nonce()
        language = pick_language(
            lang,
            found[0].language if found else None,
            accept_language=request.headers.get("accept-language"),
        )
        t = texts(language)
        context: dict[str, Any] = {
            "lang": language,
            "nonce": nonce,
            "t": t,
            "languages": LANGUAGE_NAMES,
            "found": found is not None,
            "phone": settings.issuer.phone,
            "company": settings.issuer.legal_name,
        }
        if found is not None:
            appeal, zone, letter = found
            context.update(
                number=appeal.number,
                title=t["status.title"].format(number=appeal.number),
                registered=t["status.registered"].format(
                    date=_date(appeal.registered_at, zone, language)
                ),
                state=t[f"state.{appeal.state}"],
                due=t["status.due"].format(date=_last_day(appeal.due_at, zone, language)),
                open=appeal.state in ("registered", "in_progress"),
                letter=f"/appeal/status/{token}/letter" if letter is not None else None,
                refused=t["status.refused"].format(ground=t[f"ground.{appeal.refusal_ground}"])
                if appeal.refusal_ground
                else None,
                outside=t["status.outside"] if appeal.outside_competence_at else None,
            )
        return Template(
            "appeal/status.html.j2",
            context=context,
            status_code=200 if found else 404,
            headers={**page_headers(nonce), "Content-Language": language},
            media_type=MediaType.HTML,
        )

    @get(
        "/status/{token:str}/letter",
        operation_id="AppealLetterPdf",
        status_code=307,
        include_in_schema=False,
    )
    async def letter(self, token: FromPath[str], db_session: DbSession, state: State) -> Redirect:
        """The answer letter's PDF (sealed when sealed) through a short-lived URL."""
        found = await find_by_status_token(db_session, token)
        if found is None or found[2] is None:
            raise NotFound("No letter behind this link")
        letter = found[2]
        store = provide_blob_store(state)
        url = await store.presign_get(
            letter.sealed_pdf_key or letter.pdf_key,
            expires_in=300,
            filename=f"{found[0].number}.pdf",
        )
        return Redirect(url, status_code=307, headers={"Cache-Control": "no-store"})


class _Contacts(msgspec.Struct):
    p: Phone | None
    e: schemas.Email | None


def _field(name: str, message: str) -> FieldError:
    return FieldError(field=name, message=message)


class LetterVerificationController(Controller):
    """The public record behind a letter's QR code: a page for people, JSON for programs."""

    path = "/verify/letters"
    tags = ["verification"]
    opt = {"exclude_from_auth": True}

    @get(
        "/{public_id:str}",
        operation_id="VerifyAppealLetter",
        responses={
            200: ResponseSpec(
                schemas.LetterVerification,
                description="The letter's public record (an HTML page when the client asks for "
                "text/html, as browsers do; JSON otherwise)",
                generate_examples=False,
            )
        },
    )
    async def verify(
        self,
        public_id: FromPath[str],
        request: Request[Any, Any, Any],
        db_session: DbSession,
        settings: AppSettings,
        lang: Annotated[
            str | None, QueryParameter(max_length=8, description="ru, kk or en (HTML page)")
        ] = None,
    ) -> Response[Any]:
        """Which letter this is, when it was sent, and the hashes of what was sent."""
        # The QR code opens a phone's browser, which asks for text/html; programs that asked for
        # JSON (or anything, */*) before this page existed keep getting JSON.
        accept = request.headers.get("accept", "")
        wants_html = "text/html" in accept and request.accept.best_match(
            ["application/json", "text/html"]
        ) == ("text/html")
        found = await find_letter(db_session, public_id)
        if found is None:
            if not wants_html:
                raise NotFound("No letter has this verification id")
            return public_html(
                request,
                lang,
                "ru",
                lambda language, nonce: render_letter_not_found(language, nonce=nonce),
                status_code=404,
                vary=False,
            )
        letter, appeal = found
        snapshot = letter.snapshot
        record = schemas.LetterVerification(
            public_id=letter.public_id,
            appeal_number=appeal.number,
            letter_date=str(snapshot.get("letter_date", "")),
            language=letter.language,
            issuer=str(snapshot.get("issuer", {}).get("legal_name", "")),
            snapshot_sha256=letter.snapshot_sha256,
            pdf_sha256=letter.pdf_sha256,
            sealed_pdf_sha256=letter.sealed_pdf_sha256,
            audit_hash=letter.audit_hash,
            verify_url=letter_url(settings.server.public_base_url, letter.public_id),
        )
        if not wants_html:
            return Response(
                msgspec.json.encode(record),
                media_type="application/json",
                headers={"Cache-Control": "public, max-age=60", "Vary": "Accept, Accept-Language"},
            )
        return public_html(
            request,
            lang,
            letter.language,
            lambda language, nonce: render_letter_verification(
                record, snapshot, language, phone=settings.issuer.phone, nonce=nonce
            ),
        )


CONTROLLERS = [AppealPageController, LetterVerificationController]
