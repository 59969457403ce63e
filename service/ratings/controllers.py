"""The customer's rating page (public, single-use link) and the coordinators' follow-ups."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.exceptions import ValidationException
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from litestar.response import Template

from service.auth.guards import require_roles
from service.common.actor import Role
from service.common.page_security import new_page_nonce, page_headers
from service.common.params import AppSettings, CurrentActor, DbSession, TerritoryPage
from service.errors import (
    PROBLEM_JSON,
    Problem,
    ValidationFailed,
    domain_error_handler,
    validation_errors,
)
from service.ratings import schemas
from service.ratings.follow_ups import FollowUpService
from service.ratings.page import STATUS_CODES, page_model
from service.ratings.services import RatingService

# Dispatchers see the follow-ups of their territories; coordinators and supervisors act on them.
FOLLOW_UP_READERS = require_roles(Role.DISPATCHER, Role.COORDINATOR, Role.SUPERVISOR)
FOLLOW_UP_WRITERS = require_roles(Role.COORDINATOR, Role.SUPERVISOR)


def _unprocessable(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    """A rating outside 1-5 or an unknown field is a 422 here, and nothing is written."""
    return domain_error_handler(
        request,
        ValidationFailed(
            "The rating does not match the form",
            errors=validation_errors(exc.extra) or None,
            code="invalid_rating",
        ),
    )


class RatingPageController(Controller):
    """The customer's side: no account, a single-use token in the URL."""

    path = "/rate/{token:str}"
    tags = ["ratings"]
    opt = {"exclude_from_auth": True}
    exception_handlers = {ValidationException: _unprocessable}

    @get("/", operation_id="RatingPage", media_type=MediaType.HTML)
    async def page(
        self,
        token: FromPath[str],
        db_session: DbSession,
        settings: AppSettings,
        # Any string: an unsupported language falls back to the customer's, never a 422 body
        # on an HTML page.
        lang: Annotated[
            str | None, QueryParameter(description="Page language: ru, kk or en")
        ] = None,
        accept_language: Annotated[
            str | None, HeaderParameter(name="Accept-Language", required=False)
        ] = None,
    ) -> Template:
        """Stars, a comment and four yes/no questions, in the customer's language."""
        view = await RatingService(db_session, settings.ratings).page(token, lang, accept_language)
        nonce = new_page_nonce()
        issuer = settings.issuer
        return Template(
            "rate.html.j2",
            context=page_model(
                view, token, nonce=nonce, company=issuer.legal_name, phone=issuer.phone
            ),
            status_code=STATUS_CODES[view.state],
            headers={**page_headers(nonce), "Content-Language": view.language},
            media_type=MediaType.HTML,
        )

    @post(
        "/",
        operation_id="SubmitRating",
        status_code=200,
        responses={
            410: ResponseSpec(
                Problem,
                description="The link has expired",
                media_type=PROBLEM_JSON,
                generate_examples=False,
            )
        },
    )
    async def submit(
        self,
        token: FromPath[str],
        data: JSONBody[schemas.RatingSubmission],
        db_session: DbSession,
        settings: AppSettings,
    ) -> schemas.RatingReceived:
        """Rate the visit once; the link is spent by the first valid rating."""
        return await RatingService(db_session, settings.ratings).submit(token, data)


class FollowUpController(Controller):
    """Follow-ups opened by poor ratings, for the territory's coordinators."""

    path = "/api/v1/coordination/follow-ups"
    tags = ["coordination"]

    @get("/", operation_id="ListFollowUps", guards=[FOLLOW_UP_READERS])
    async def list_follow_ups(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        territory_page: TerritoryPage,
        status: FromQuery[schemas.FollowUpStatus] = "open",
        owner: Annotated[
            Literal["me"] | None, QueryParameter(description="`me`: only the caller's own")
        ] = None,
    ) -> schemas.FollowUpPage:
        """Follow-ups of the caller's territories, newest first."""
        return await FollowUpService(db_session, actor).page(status, owner == "me", territory_page)

    @get("/{task_id:uuid}", operation_id="GetFollowUp", guards=[FOLLOW_UP_READERS])
    async def get_follow_up(
        self, task_id: FromPath[uuid.UUID], db_session: DbSession, actor: CurrentActor
    ) -> schemas.FollowUp:
        """One follow-up with the rating behind it."""
        return await FollowUpService(db_session, actor).get(task_id)

    @post(
        "/{task_id:uuid}/resolve",
        operation_id="ResolveFollowUp",
        status_code=200,
        guards=[FOLLOW_UP_WRITERS],
    )
    async def resolve(
        self,
        task_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.FollowUpResolve],
        db_session: DbSession,
        actor: CurrentActor,
    ) -> schemas.FollowUp:
        """Close a follow-up with how it ended (comment required)."""
        return await FollowUpService(db_session, actor).resolve(task_id, data)


CONTROLLERS = [FollowUpController, RatingPageController]
