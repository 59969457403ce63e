"""The complaint-reason taxonomy, edited by administrators (/coordinate/appeals/reasons).

Add a reason, rename it in kk/ru/en, retire it (it stays on the complaints that have it and in
the analysis, and is no longer offered for new decisions), or offer it again. The rules are
``AppealService.put_reason``'s (the same as PUT /api/v1/appeals/reasons/{code}); each form runs
in a savepoint, so a refused one writes nothing, and answers 303 back to the page (or the page
again with the reason next to the form and a 4xx).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath
from sqlalchemy import select

from service.appeals import schemas
from service.appeals.services import AppealService
from service.common.actor import Role
from service.common.params import DbSession
from service.db.models import AppealReason
from service.errors import DomainError, Forbidden
from service.staff.appeals_page import _convert
from service.staff.appeals_texts import appeal_texts
from service.staff.coordinate import user_name
from service.staff.web import (
    APPEALS,
    STAFF_PAGE_OPTIONS,
    Form,
    StaffDep,
    StaffRequest,
    field_errors,
)
from service.storage import provide_blob_store

PATH = f"{APPEALS.path}/reasons"
ADMINS = (Role.ADMIN,)
NOTICES = frozenset({"added", "saved", "retired", "restored"})
LANGUAGES = ("ru", "kk", "en")
INPUTS = ("code", *(f"names.{language}" for language in LANGUAGES))


def _service(staff: StaffRequest, db_session: DbSession, state: State) -> AppealService:
    assert staff.session is not None
    return AppealService(db_session, staff.session.actor, state.settings, provide_blob_store(state))


def _put(data: dict[str, str], active: bool) -> schemas.ReasonPut:
    """The form's names as the API's request struct (its refusal names the field)."""
    return _convert(  # type: ignore[no-any-return]
        {
            "names": {language: data.get(f"name_{language}", "").strip() for language in LANGUAGES},
            "active": active,
        },
        schemas.ReasonPut,
    )


class AppealReasonsController(Controller):
    """The reasons a complaint's decision is given with."""

    path = PATH
    include_in_schema = STAFF_PAGE_OPTIONS["include_in_schema"]
    opt = STAFF_PAGE_OPTIONS["opt"]
    dependencies = STAFF_PAGE_OPTIONS["dependencies"]
    exception_handlers = STAFF_PAGE_OPTIONS["exception_handlers"]

    @get("/", media_type=MediaType.HTML)
    async def reasons(
        self, request: Request[Any, Any, Any], staff: StaffDep, db_session: DbSession, state: State
    ) -> Response[Any]:
        """Every reason, offered or retired, and the form to add one."""
        if (refused := staff.refusal(APPEALS, roles=ADMINS)) is not None:
            return refused
        notice = request.query_params.get("notice")
        return await self._page(
            staff, db_session, state, notice=notice if notice in NOTICES else None
        )

    async def _page(
        self,
        staff: StaffRequest,
        db_session: DbSession,
        state: State,
        *,
        notice: str | None = None,
        failed: str | None = None,
        errors: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
        status: int = 200,
    ) -> Response[Any]:
        """``failed``: the code of the row whose form was refused ("" for the add form)."""
        at = appeal_texts(staff.language)
        actor = staff.session.actor  # type: ignore[union-attr]
        rows = await _service(staff, db_session, state).reasons()
        rows.sort(key=lambda r: (not r.active, r.names.get(staff.language) or r.code))
        return staff.page(
            "staff/appeals/reasons.html.j2",
            {
                **staff.layout(APPEALS, await user_name(db_session, actor.user_id)),
                "at": at,
                "tab": "reasons",
                "reasons": rows,
                "name_languages": LANGUAGES,
                "notice": at[f"rs.notice.{notice}"] if notice else None,
                "failed": failed,
                "errors": errors or {},
                "form": form or {},
            },
            status,
        )

    @post("/", media_type=MediaType.HTML, status_code=303)
    async def add(
        self, data: Form, staff: StaffDep, db_session: DbSession, state: State
    ) -> Response[Any]:
        """Add a reason under a new code."""
        if (refused := staff.refusal(APPEALS, data, PATH, roles=ADMINS)) is not None:
            return refused
        code = data.get("code", "").strip()
        form = {k: v for k, v in data.items() if k != "csrf"}
        exists = await db_session.scalar(select(AppealReason.id).where(AppealReason.code == code))
        if exists is not None:
            at = appeal_texts(staff.language)
            return await self._page(
                staff,
                db_session,
                state,
                failed="",
                errors={"code": at["rs.err.exists"]},
                form=form,
                status=409,
            )
        return await self._save(staff, db_session, state, code, data, True, "added", "")

    @post("/{code:str}", media_type=MediaType.HTML, status_code=303)
    async def save(
        self,
        code: FromPath[str],
        data: Form,
        staff: StaffDep,
        db_session: DbSession,
        state: State,
    ) -> Response[Any]:
        """Rename a reason, retire it, or offer it again."""
        if (refused := staff.refusal(APPEALS, data, PATH, roles=ADMINS)) is not None:
            return refused
        row = await db_session.scalar(select(AppealReason).where(AppealReason.code == code))
        if row is None:
            return staff.not_found()
        action = data.get("action", "save")
        active = {"retire": False, "restore": True}.get(action, row.active)
        notice = {"retire": "retired", "restore": "restored"}.get(action, "saved")
        return await self._save(staff, db_session, state, code, data, active, notice, code)

    async def _save(
        self,
        staff: StaffRequest,
        db_session: DbSession,
        state: State,
        code: str,
        data: dict[str, str],
        active: bool,
        notice: str,
        row: str,
    ) -> Response[Any]:
        try:
            async with db_session.begin_nested():
                await _service(staff, db_session, state).put_reason(code, _put(data, active))
        except Forbidden:
            return staff.not_for_role()
        except DomainError as exc:
            errors = field_errors(appeal_texts(staff.language), exc, INPUTS)
            form = {k: v for k, v in data.items() if k != "csrf"}
            return await self._page(
                staff, db_session, state, failed=row, errors=errors, form=form, status=422
            )
        return staff.redirect(f"{PATH}?notice={notice}")
