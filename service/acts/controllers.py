"""Act endpoints: read and download in scope, upload a PDF to verify, the public page."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.openapi import ResponseSpec
from litestar.params import Body, FromPath, FromQuery, QueryParameter
from litestar.response import Redirect

from service.acts.customer_links import CustomerLinkService, VisitCustomerLinks
from service.acts.page import public_html, render_not_found, render_verification
from service.acts.schemas import Act, ActPage, ActStatus, ActVerification, PdfVerification
from service.acts.services import (
    ActFilters,
    Acts,
    act_schema,
    etag_for,
    find_public,
    provide_act_service,
    public_context,
)
from service.acts.verification import MAX_UPLOAD_BYTES, public_view
from service.auth.guards import EVERYONE, require_roles
from service.common.actor import Role
from service.common.pagination import DEFAULT_LIMIT
from service.common.params import AppSettings, CurrentActor, DbSession, PageCursor, PageLimit
from service.errors import NotFound

# Multipart framing around the file is small; the file itself is capped at MAX_UPLOAD_BYTES.
_UPLOAD_BODY_LIMIT = MAX_UPLOAD_BYTES + 64 * 1024


@dataclass
class ActPdfUpload:
    """A PDF to check (multipart field ``file``)."""

    file: UploadFile


class ActController(Controller):
    """Acts of completed works and handover acts, scoped like work orders."""

    path = "/api/v1/acts"
    tags = ["acts"]
    dependencies = {"acts": Provide(provide_act_service)}

    @get("/", operation_id="ListActs", guards=[require_roles(*EVERYONE)])
    async def list_acts(
        self,
        acts: Acts,
        work_order_id: FromQuery[uuid.UUID | None] = None,
        visit_id: FromQuery[uuid.UUID | None] = None,
        status: FromQuery[ActStatus | None] = None,
        cursor: PageCursor = None,
        limit: PageLimit = DEFAULT_LIMIT,
    ) -> ActPage:
        """List acts in the caller's scope, newest first."""
        filters = ActFilters(work_order_id=work_order_id, visit_id=visit_id, status=status)
        return await acts.page(filters, cursor, limit)

    @get("/{act_id:uuid}", operation_id="GetAct", guards=[require_roles(*EVERYONE)])
    async def get_act(self, act_id: FromPath[uuid.UUID], acts: Acts) -> Response[Act]:
        """Get one act with its snapshot and hashes."""
        act = await acts.get(act_id)
        return Response(act_schema(act, acts.base_url), headers={"ETag": etag_for(act)})

    @get(
        "/{act_id:uuid}/pdf",
        operation_id="GetActPdf",
        status_code=307,
        guards=[require_roles(*EVERYONE)],
        responses={
            307: ResponseSpec(None, description="Redirect to a short-lived download URL of the PDF")
        },
    )
    async def get_act_pdf(self, act_id: FromPath[uuid.UUID], acts: Acts) -> Redirect:
        """Download the act's final PDF (sealed when sealed) through a short-lived URL."""
        url = await acts.pdf_url(act_id)
        return Redirect(url, status_code=307, headers={"Cache-Control": "no-store"})

    @post(
        "/verify",
        operation_id="VerifyActPdf",
        status_code=200,
        guards=[require_roles(*EVERYONE)],
        request_max_body_size=_UPLOAD_BODY_LIMIT,
    )
    async def verify_act_pdf(
        self,
        data: Annotated[ActPdfUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        acts: Acts,
    ) -> PdfVerification:
        """Upload a PDF (up to 20 MiB): which act it is, and whether it is the stored file."""
        content = await data.file.read()
        return await acts.verify_pdf(content)


class ActVerificationController(Controller):
    """The public page behind an act's QR code: no login, no personal data beyond initials."""

    path = "/verify/acts"
    tags = ["verification"]
    opt = {"exclude_from_auth": True}

    @get(
        "/{public_id:str}",
        operation_id="VerifyAct",
        responses={
            200: ResponseSpec(
                ActVerification,
                description="The act's public record (JSON with Accept: application/json; "
                "otherwise an HTML page)",
                generate_examples=False,
            )
        },
    )
    async def verify_act(
        self,
        public_id: FromPath[str],
        request: Request[Any, Any, Any],
        db_session: DbSession,
        settings: AppSettings,
        lang: Annotated[
            str | None, QueryParameter(max_length=8, description="ru, kk or en (HTML page)")
        ] = None,
    ) -> Response[Any]:
        """Public verification of an act: number, date, status, hashes, issuer."""
        accept = request.headers.get("accept", "")
        wants_json = request.accept.best_match(["text/html", "application/json"]) == (
            "application/json"
        )
        act = await find_public(db_session, public_id)
        if act is None:
            if wants_json or "text/html" not in accept:
                raise NotFound("No act has this verification id")
            return public_html(
                request,
                lang,
                "ru",
                lambda language, nonce: render_not_found(language, nonce=nonce),
                status_code=404,
                vary=False,
            )
        refused_at, time_zone, work_type = await public_context(db_session, act)
        view = public_view(act, settings.server.public_base_url, refused_at, work_type)
        caching = {"Cache-Control": "public, max-age=60", "Vary": "Accept, Accept-Language"}
        if wants_json:
            return Response(
                msgspec.json.encode(view), media_type="application/json", headers=caching
            )
        return public_html(
            request,
            lang,
            act.language,
            lambda language, nonce: render_verification(
                view,
                language,
                time_zone=time_zone,
                phone=settings.issuer.phone,
                nonce=nonce,
                refused_at=refused_at,
            ),
        )


class CustomerLinksController(Controller):
    """The links a visit's customer was sent, for staff answering the customer's call."""

    path = "/api/v1/visits/{visit_id:uuid}/customer-links"
    tags = ["acts"]

    @get(
        "/",
        operation_id="GetVisitCustomerLinks",
        guards=[require_roles(Role.ADMIN, Role.DISPATCHER, Role.COORDINATOR)],
    )
    async def customer_links(
        self,
        visit_id: FromPath[uuid.UUID],
        db_session: DbSession,
        actor: CurrentActor,
        settings: AppSettings,
    ) -> VisitCustomerLinks:
        """The current copy-of-the-act and rating links of a visit, with the act's id."""
        return await CustomerLinkService(db_session, actor, settings).for_visit(visit_id)
