"""Mobile endpoints: the day bundle, sync push and pull, a visit's checklist."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

import anyio.to_thread
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_304_NOT_MODIFIED

from mobile_api.deps import Signing, Technician, TechnicianReads, provide_signing
from mobile_api.schemas import PushRequest, PushResponse
from mobile_api.signing_page import MESSAGE_STATUS, message_model, page_model
from reports.qr import qr_svg
from service.auth.me import Me, MeService
from service.common.i18n import Language, pick_language
from service.common.page_security import new_page_nonce, page_headers
from service.common.params import DbSession
from service.db.engine import SNAPSHOT
from service.db.reads import RAW_READS
from service.errors import (
    Conflict,
    DomainError,
    FieldError,
    Gone,
    NotFound,
    Problem,
    problem_response,
)
from service.execution.photos import (
    PhotoService,
    PhotoUploadRequest,
    PhotoView,
    rejection_text,
)
from service.execution.schemas import DayBundle
from service.execution.services import read_day
from service.execution.signing import (
    ActStart,
    Refusal,
    SignatureSubmission,
    SignedAct,
    SigningLink,
    SigningService,
)
from service.execution.sync import PullResult, SyncService
from service.execution.sync_texts import localize
from service.incidents.services import IncidentRouting
from service.ratings.services import RatingLinks
from service.visit_checklists.schemas import VisitChecklistView
from service.visit_checklists.services import ChecklistService


class DayController(Controller):
    """What the phone loads before going offline."""

    path = "/day"
    tags = ["mobile"]

    @get(
        "/",
        operation_id="GetMobileDay",
        opt={RAW_READS: True},
        responses={
            200: ResponseSpec(DayBundle, description="Day bundle", generate_examples=False),
            304: ResponseSpec(None, description="Unchanged since If-None-Match"),
        },
    )
    async def day(
        self,
        technician_reads: TechnicianReads,
        state: State,
        on: Annotated[date | None, QueryParameter(name="date", description="A single day")] = None,
        first: Annotated[
            date | None, QueryParameter(name="from", description="Preload start")
        ] = None,
        last: Annotated[
            date | None, QueryParameter(name="to", description="Preload end (<= 7 days)")
        ] = None,
        if_none_match: Annotated[str | None, HeaderParameter(name="If-None-Match")] = None,
    ) -> Response[Any]:
        """The technician's visits in order with everything needed offline, and an ETag."""
        start = first or on
        etag, bundle = await read_day(
            await technician_reads.connection(),
            technician_reads.checked_actor,
            state.checklist_registry,
            start,
            last or start,
            if_none_match,
            photo_max_side_px=state.settings.mobile.photo_max_side_px,
        )
        if bundle is None:
            return Response(None, status_code=HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return Response(bundle, headers={"ETag": etag, "Cache-Control": "private"})


class MobileMeController(Controller):
    """The technician behind the phone."""

    path = "/me"
    tags = ["mobile"]

    @get("/", operation_id="GetMobileMe")
    async def me(
        self,
        db_session: DbSession,
        technician: Technician,
        accept_language: Annotated[
            str | None, HeaderParameter(name="Accept-Language", required=False)
        ] = None,
    ) -> Me:
        """Who am I on this phone: user, technician id, personnel number, territories."""
        return await MeService(db_session, technician).me(accept_language)


class SyncController(Controller):
    """The offline sync protocol."""

    path = "/sync"
    tags = ["mobile"]

    @post("/push", operation_id="SyncPush", status_code=200)
    async def push(
        self,
        data: JSONBody[PushRequest],
        db_session: DbSession,
        technician: Technician,
        state: State,
        accept_language: Annotated[
            str | None, HeaderParameter(name="Accept-Language", required=False)
        ] = None,
    ) -> PushResponse:
        """Apply operations recorded offline; each is applied at most once, forever."""
        service = SyncService(
            db_session,
            technician,
            state.checklist_registry,
            rating_links=RatingLinks.from_settings(state.settings),
            store=state.blob_store,
            incident_routing=IncidentRouting.from_settings(state.settings),
            language=pick_language(accept_language=accept_language),
        )
        return PushResponse(results=await service.push(data.operations))

    @get("/pull", operation_id="SyncPull", opt={SNAPSHOT: True})
    async def pull(
        self,
        db_session: DbSession,
        technician: Technician,
        state: State,
        cursor: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> PullResult:
        """Every change to see since the cursor, from one consistent snapshot."""
        return await SyncService(db_session, technician, state.checklist_registry).pull(cursor)


class MobileVisitController(Controller):
    """A visit as the technician sees it."""

    path = "/visits/{visit_id:uuid}"
    tags = ["mobile"]

    @get("/checklist", operation_id="GetMobileVisitChecklist")
    async def checklist(
        self,
        visit_id: FromPath[uuid.UUID],
        db_session: DbSession,
        technician: Technician,
        state: State,
        lang: Annotated[Language | None, QueryParameter()] = None,
        accept_language: Annotated[
            str | None, HeaderParameter(name="Accept-Language", required=False)
        ] = None,
    ) -> VisitChecklistView:
        """The engine's state for the technician's own visit (in ?lang, else Accept-Language)."""
        service = ChecklistService(db_session, technician, state.checklist_registry)
        return await service.view(visit_id, pick_language(lang, accept_language=accept_language))


class PhotoController(Controller):
    """Photos: presigned upload, then confirm."""

    path = "/photos"
    tags = ["mobile"]

    @post("/uploads", operation_id="StartPhotoUpload", status_code=201)
    async def start(
        self,
        data: JSONBody[PhotoUploadRequest],
        db_session: DbSession,
        technician: Technician,
        state: State,
        accept_language: Annotated[
            str | None, HeaderParameter(name="Accept-Language", required=False)
        ] = None,
    ) -> PhotoView:
        """Reserve a photo and get a presigned PUT (S3) or signed local URL with its headers."""
        try:
            return await _photos(db_session, technician, state).start_upload(data)
        except DomainError as error:
            raise localize(error, pick_language(accept_language=accept_language)) from None

    @post(
        "/{photo_id:uuid}/confirm",
        operation_id="ConfirmPhoto",
        status_code=200,
        responses={
            200: ResponseSpec(PhotoView, description="Stored", generate_examples=False),
            422: ResponseSpec(
                Problem,
                description=(
                    "Refused: the bytes do not match the declared size and SHA-256 (code "
                    "`integrity`) or are not an image of the declared type (code "
                    "`not_declared_type`). The object is deleted and the photo is `rejected`: "
                    "upload the photo again as a new one."
                ),
                media_type="application/problem+json",
                generate_examples=False,
            ),
        },
    )
    async def confirm(
        self,
        photo_id: FromPath[uuid.UUID],
        db_session: DbSession,
        technician: Technician,
        state: State,
        accept_language: Annotated[
            str | None, HeaderParameter(name="Accept-Language", required=False)
        ] = None,
    ) -> Response[Any]:
        """Verify size, SHA-256 and image type of the uploaded bytes; only then does it count.

        A refusal's ``detail`` is for the technician, in their language; ``errors`` keep the
        technical finding in English."""
        language = pick_language(accept_language=accept_language)
        try:
            photo = await _photos(db_session, technician, state).confirm(photo_id)
        except DomainError as error:
            raise localize(error, language) from None
        if photo.rejection is not None:
            # Returned, not raised: the rejection (and the deleted object) must be committed.
            rejection = photo.rejection
            return problem_response(
                Problem(
                    type="https://naryad.dev/problems/validation-failed",
                    title="Validation failed",
                    status=422,
                    detail=rejection_text(rejection, language),
                    instance=f"/mobile/v1/photos/{photo_id}/confirm",
                    code=rejection.code,
                    errors=[
                        FieldError(
                            field="sha256" if rejection.code == "integrity" else "content_type",
                            message=f"declared {rejection.declared_type}; found {rejection.found}",
                        )
                    ],
                )
            )
        return Response(photo)


def _photos(session: Any, technician: Any, state: State) -> PhotoService:
    return PhotoService(
        session,
        technician,
        state.checklist_registry,
        state.blob_store,
        state.settings.storage.url_ttl_seconds,
    )


class ActController(Controller):
    """The technician freezes the act and hands the phone to the customer."""

    path = "/visits/{visit_id:uuid}/acts"
    tags = ["mobile"]
    dependencies = {"signing": Provide(provide_signing, sync_to_thread=False)}

    @post("/", operation_id="StartActSigning", status_code=201)
    async def start(
        self,
        visit_id: FromPath[uuid.UUID],
        data: JSONBody[ActStart],
        db_session: DbSession,
        technician: Technician,
        signing: Signing,
        accept_language: Annotated[
            str | None, HeaderParameter(name="Accept-Language", required=False)
        ] = None,
    ) -> SigningLink:
        """Freeze the act snapshot (checklist at completion) and get a single-use signing link."""
        return await SigningService(db_session, technician, signing).start(
            visit_id, data, pick_language(accept_language=accept_language)
        )


HTML_ERRORS = {
    status: ResponseSpec(
        str,
        description=description,
        media_type=MediaType.HTML,
        generate_examples=False,
    )
    for status, description in (
        (404, "Unknown link: an HTML page in the customer's language"),
        (409, "Used or refused link: an HTML page in the customer's language"),
        (410, "Expired link: an HTML page in the customer's language"),
    )
}


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    """A client that asks for JSON gets problem+json; a browser (or anything else) a page."""
    return request.accept.best_match(["text/html", "application/json"]) == "application/json"


def _link_error(state: str) -> DomainError:
    """The problem a JSON client gets for a link that cannot show its page."""
    if state == "expired":
        return Gone("This link has expired; ask for a new one", code="link_expired")
    if state == "used":
        return Conflict("This link has already been used", code="link_used")
    if state == "refused":
        return Conflict("The customer refused to sign with this link", code="link_refused")
    return NotFound("This link is not valid")


def _message_page(
    state: str,
    issuer: tuple[str, str],
    language: str | None,
    accept_language: str | None,
    *,
    refresh: bool = False,
    act_public_id: str | None = None,
) -> Template:
    """A customer link's answer when it cannot show what it was made for (never JSON)."""
    nonce = new_page_nonce()
    lang = pick_language(language, accept_language=accept_language)
    return Template(
        "customer_message.html.j2",
        context=message_model(
            state,
            lang,
            company=issuer[0],
            phone=issuer[1],
            nonce=nonce,
            refresh=refresh,
            act_public_id=act_public_id,
        ),
        status_code=MESSAGE_STATUS[state],
        headers={**page_headers(nonce, form_action="'none'"), "Content-Language": lang},
        media_type=MediaType.HTML,
    )


class SigningController(Controller):
    """The customer's side: no account, a single-use token in the URL."""

    path = "/sign/{token:str}"
    tags = ["signing"]
    dependencies = {"signing": Provide(provide_signing, sync_to_thread=False)}
    opt = {"exclude_from_auth": True}

    @get(
        "/",
        operation_id="SigningPage",
        media_type=MediaType.HTML,
        include_in_schema=True,
        responses=HTML_ERRORS,
    )
    async def page(
        self,
        token: FromPath[str],
        request: Request[Any, Any, Any],
        db_session: DbSession,
        signing: Signing,
        accept_language: Annotated[
            str | None, HeaderParameter(name="Accept-Language", required=False)
        ] = None,
    ) -> Template:
        """The whole act, large text, read-aloud, then the signature box; else why not."""
        view = await SigningService(db_session, None, signing).page(token)
        if view.state != "open" or view.act is None or view.snapshot is None:
            if _wants_json(request):
                raise _link_error(view.state)
            return _message_page(view.state, view.issuer, view.language, accept_language)
        nonce = new_page_nonce()
        return Template(
            "sign.html.j2",
            context=page_model(
                view.snapshot,
                view.act.snapshot_sha256,
                token,
                nonce=nonce,
                large_text=view.low_vision,
            ),
            headers={**page_headers(nonce), "Content-Language": view.snapshot.language},
            media_type=MediaType.HTML,
        )

    @post("/", operation_id="SubmitSignature", status_code=200)
    async def submit(
        self,
        token: FromPath[str],
        data: JSONBody[SignatureSubmission],
        db_session: DbSession,
        signing: Signing,
        user_agent: Annotated[str | None, HeaderParameter(name="User-Agent")] = None,
    ) -> SignedAct:
        """Sign: the signature is bound to the snapshot hash; the PDF follows in the background."""
        service = SigningService(db_session, None, signing)
        return await service.submit(token, data, user_agent)

    @post("/otp", operation_id="SendSigningCode", status_code=202)
    async def send_code(
        self, token: FromPath[str], db_session: DbSession, signing: Signing
    ) -> dict[str, str]:
        """Send a one-time code to the customer's phone."""
        expires = await SigningService(db_session, None, signing).send_code(token)
        return {"expires_at": expires.isoformat()}

    @post("/refuse", operation_id="RefuseToSign", status_code=200)
    async def refuse(
        self,
        token: FromPath[str],
        data: JSONBody[Refusal],
        db_session: DbSession,
        signing: Signing,
    ) -> dict[str, str]:
        """Record the customer's refusal and its reason."""
        await SigningService(db_session, None, signing).refuse(token, data)
        return {"status": "refused"}


class CustomerCopyController(Controller):
    """The customer's copy of the signed act, from the SMS link or the QR code."""

    path = "/acts/copy/{token:str}"
    tags = ["signing"]
    dependencies = {"signing": Provide(provide_signing, sync_to_thread=False)}
    opt = {"exclude_from_auth": True}

    @get(
        "/",
        operation_id="CustomerActCopy",
        status_code=307,
        responses={
            307: ResponseSpec(
                None, description="To a short-lived download of the PDF (Location header)"
            ),
            200: ResponseSpec(
                str,
                description="The PDF is being prepared: an HTML page that refreshes itself",
                media_type=MediaType.HTML,
                generate_examples=False,
            ),
            **{status: spec for status, spec in HTML_ERRORS.items() if status != 409},
        },
    )
    async def copy(
        self,
        token: FromPath[str],
        request: Request[Any, Any, Any],
        db_session: DbSession,
        signing: Signing,
        accept_language: Annotated[
            str | None, HeaderParameter(name="Accept-Language", required=False)
        ] = None,
    ) -> Response[Any]:
        """Redirect to a short-lived download of the signed PDF, or say why not yet."""
        view = await SigningService(db_session, None, signing).copy(token)
        if view.state == "open" and view.url is not None:
            return Redirect(view.url, status_code=307, headers={"Cache-Control": "no-store"})
        if view.state in ("unknown", "expired") and _wants_json(request):
            raise _link_error(view.state)
        return _message_page(
            view.state,
            view.issuer,
            view.language,
            accept_language,
            refresh=view.state == "preparing",
            act_public_id=view.act_public_id,
        )

    @get(
        "/qr.svg",
        operation_id="CustomerActCopyQrCode",
        media_type="image/svg+xml",
    )
    async def qr_code(
        self, token: FromPath[str], db_session: DbSession, signing: Signing
    ) -> Response[bytes]:
        """The copy link as a QR code, for the customer to scan with their own phone."""
        service = SigningService(db_session, None, signing)
        if not await service.copy_exists(token):
            raise NotFound("This link is not valid")
        url = f"{signing.settings.server.public_base_url}/mobile/v1/acts/copy/{token}"
        # Drawing the code takes tens of milliseconds of reportlab: off the event loop.
        svg = await anyio.to_thread.run_sync(qr_svg, url)
        return Response(
            svg,
            media_type="image/svg+xml",
            headers={
                "Cache-Control": "private, max-age=3600",
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
            },
        )
