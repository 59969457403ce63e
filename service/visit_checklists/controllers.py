"""GET /api/v1/visits/{id}/checklist."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import FromPath, QueryParameter

from service.auth.guards import EVERYONE, require_roles
from service.common.i18n import Language
from service.common.params import CurrentActor, DbSession
from service.visit_checklists.schemas import VisitChecklistView
from service.visit_checklists.services import ChecklistService


class VisitChecklistController(Controller):
    """A visit's checklist state and compliance."""

    path = "/api/v1/visits/{visit_id:uuid}/checklist"
    tags = ["checklists"]

    @get("/", operation_id="GetVisitChecklist", guards=[require_roles(*EVERYONE)])
    async def get_checklist(
        self,
        visit_id: FromPath[uuid.UUID],
        db_session: DbSession,
        actor: CurrentActor,
        state: State,
        lang: Annotated[Language, QueryParameter()] = "ru",
    ) -> VisitChecklistView:
        """Pinned template version, engine state (phase, next steps, blockers, compliance)."""
        service = ChecklistService(db_session, actor, state.checklist_registry)
        return await service.view(visit_id, lang)
