"""Appeals and complaints for staff (/api/v1/appeals); the public pages are in ``page.py``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from litestar import Controller, get, patch, post, put
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody, QueryParameter

from service.appeals import schemas
from service.appeals.analysis import AnalysisService
from service.appeals.letters import LetterService, sealer_for
from service.appeals.multipart import undecodable_part
from service.appeals.services import MAX_ATTACHMENT_BYTES, WORKER_ROLES, AppealService
from service.auth.guards import require_roles
from service.common.actor import Role
from service.common.params import CurrentActor, DbSession, TerritoryPage
from service.storage import provide_blob_store

# Dispatchers register what customers tell them; coordinators and supervisors (the head of the
# customer unit, seed 001 §6.2) work, decide and answer.
READERS = require_roles(Role.ADMIN, Role.DISPATCHER, Role.COORDINATOR, Role.SUPERVISOR)
WORKERS = require_roles(*WORKER_ROLES)
ADMINS = require_roles(Role.ADMIN)


async def provide_appeal_service(
    db_session: DbSession, actor: CurrentActor, state: State
) -> AppealService:
    """The request's appeal service, wired to the settings and the blob store."""
    return AppealService(db_session, actor, state.settings, provide_blob_store(state))


Appeals = NamedDependency[AppealService]


@dataclass
class AttachmentUpload:
    """A file to attach (multipart field ``file``): JPEG, PNG, WebP or PDF, up to 10 MiB."""

    file: UploadFile


class AppealController(Controller):
    """Appeals of the caller's territories."""

    path = "/api/v1/appeals"
    tags = ["appeals"]
    dependencies = {"appeals": Provide(provide_appeal_service)}
    exception_handlers = {UnicodeDecodeError: undecodable_part}

    @post("/", operation_id="RegisterAppeal", guards=[READERS])
    async def register(
        self, data: JSONBody[schemas.AppealCreate], appeals: Appeals
    ) -> schemas.Appeal:
        """Register an appeal taken by phone, on a visit, in the office or by letter."""
        return await appeals.register(data)

    @get("/", operation_id="ListAppeals", guards=[READERS])
    async def list_appeals(
        self,
        appeals: Appeals,
        territory_page: TerritoryPage,
        state_filter: Annotated[
            schemas.AppealState | None, QueryParameter(name="state", description="Only this state")
        ] = None,
        kind: FromQuery[schemas.AppealKind | None] = None,
        owner: Annotated[
            Literal["me"] | None, QueryParameter(description="`me`: only the caller's own")
        ] = None,
    ) -> schemas.AppealPage:
        """Appeals of the caller's territories, newest first."""
        return await appeals.page(territory_page, state_filter, kind, owner == "me")

    @get("/{appeal_id:uuid}", operation_id="GetAppeal", guards=[READERS])
    async def get_appeal(self, appeal_id: FromPath[uuid.UUID], appeals: Appeals) -> schemas.Appeal:
        """One appeal with its clock, notes, requests, measures and letter."""
        return await appeals.get(appeal_id)

    @patch("/{appeal_id:uuid}", operation_id="UpdateAppeal", guards=[WORKERS])
    async def update(
        self,
        appeal_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.AppealUpdate],
        appeals: Appeals,
    ) -> schemas.Appeal:
        """Set the owner, extend the deadline within the maximum, or notice outside competence."""
        return await appeals.update(appeal_id, data)

    @post(
        "/{appeal_id:uuid}/attachments",
        operation_id="AttachToAppeal",
        status_code=200,
        guards=[READERS],
        request_max_body_size=MAX_ATTACHMENT_BYTES + 64 * 1024,
    )
    async def attach(
        self,
        appeal_id: FromPath[uuid.UUID],
        data: Annotated[AttachmentUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        appeals: Appeals,
    ) -> schemas.Appeal:
        """Attach a file; its bytes must be the type it declares."""
        content = await data.file.read()
        return await appeals.attach(appeal_id, content, data.file.content_type)

    @post(
        "/{appeal_id:uuid}/notes", operation_id="AddAppealNote", status_code=200, guards=[READERS]
    )
    async def add_note(
        self, appeal_id: FromPath[uuid.UUID], data: JSONBody[schemas.NoteCreate], appeals: Appeals
    ) -> schemas.Appeal:
        """Add an internal note."""
        return await appeals.add_note(appeal_id, data)

    @post(
        "/{appeal_id:uuid}/requests",
        operation_id="RequestFromUnit",
        status_code=200,
        guards=[WORKERS],
    )
    async def add_request(
        self,
        appeal_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.UnitRequestCreate],
        appeals: Appeals,
    ) -> schemas.Appeal:
        """Ask another unit for documents or facts by a date."""
        return await appeals.add_request(appeal_id, data)

    @post(
        "/{appeal_id:uuid}/requests/{request_id:uuid}/answer",
        operation_id="AnswerUnitRequest",
        status_code=200,
        guards=[WORKERS],
    )
    async def answer_request(
        self,
        appeal_id: FromPath[uuid.UUID],
        request_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.UnitRequestAnswer],
        appeals: Appeals,
    ) -> schemas.Appeal:
        """Record the other unit's answer."""
        return await appeals.answer_request(appeal_id, request_id, data)

    @post(
        "/{appeal_id:uuid}/decision",
        operation_id="DecideComplaint",
        status_code=200,
        guards=[WORKERS],
    )
    async def decide(
        self,
        appeal_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.DecisionCreate],
        appeals: Appeals,
    ) -> schemas.Appeal:
        """Find a complaint justified, partly justified or unjustified, with reasons."""
        return await appeals.decide(appeal_id, data)

    @post(
        "/{appeal_id:uuid}/measures",
        operation_id="AddCorrectiveMeasure",
        status_code=200,
        guards=[WORKERS],
    )
    async def add_measure(
        self,
        appeal_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.MeasureCreate],
        appeals: Appeals,
    ) -> schemas.Appeal:
        """Set a corrective measure for a justified complaint."""
        return await appeals.add_measure(appeal_id, data)

    @post(
        "/{appeal_id:uuid}/refusal", operation_id="RefuseAppeal", status_code=200, guards=[WORKERS]
    )
    async def refuse(
        self,
        appeal_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.AppealRefusal],
        appeals: Appeals,
    ) -> schemas.Appeal:
        """Leave the appeal unconsidered on a listed ground; the customer is told."""
        return await appeals.refuse(appeal_id, data)

    @post(
        "/{appeal_id:uuid}/answer", operation_id="AnswerAppeal", status_code=200, guards=[WORKERS]
    )
    async def answer(
        self,
        appeal_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.AnswerCreate],
        appeals: Appeals,
        state: State,
    ) -> schemas.Appeal:
        """Answer on the merits: the letter is rendered, stored, sealed and sent."""
        return await LetterService(appeals, sealer_for(state)).answer(appeal_id, data)

    @get("/policies", operation_id="ListAppealPolicies", guards=[READERS])
    async def policies(self, appeals: Appeals) -> list[schemas.PolicyView]:
        """The control deadlines of each kind."""
        return await appeals.policies()

    @put("/policies/{kind:str}", operation_id="PutAppealPolicy", guards=[ADMINS])
    async def put_policy(
        self,
        kind: FromPath[schemas.AppealKind],
        data: JSONBody[schemas.PolicyUpdate],
        appeals: Appeals,
    ) -> schemas.PolicyView:
        """Change a kind's control deadlines."""
        return await appeals.put_policy(kind, data)

    @get("/reasons", operation_id="ListAppealReasons", guards=[READERS])
    async def reasons(self, appeals: Appeals) -> list[schemas.ReasonView]:
        """The complaint-reason taxonomy."""
        return await appeals.reasons()

    @put("/reasons/{code:str}", operation_id="PutAppealReason", guards=[ADMINS])
    async def put_reason(
        self,
        code: FromPath[str],
        data: JSONBody[schemas.ReasonPut],
        appeals: Appeals,
    ) -> schemas.ReasonView:
        """Create, rename or retire a complaint reason."""
        return await appeals.put_reason(code, data)

    @get("/analysis", operation_id="AnalyseAppeals", guards=[READERS])
    async def analysis(
        self,
        db_session: DbSession,
        actor: CurrentActor,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        territory_id: FromQuery[uuid.UUID | None] = None,
    ) -> schemas.Analysis:
        """Complaint reasons by territory, work type and technician; on-time share; repeats."""
        return await AnalysisService(db_session, actor).figures(since, until, territory_id)


CONTROLLERS = [AppealController]
