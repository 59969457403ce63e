"""All models, imported here so the metadata is complete for Alembic."""

from service.db.models.acts import Act, ActNumberCounter
from service.db.models.appeals import (
    Appeal,
    AppealAttachment,
    AppealEscalation,
    AppealLetter,
    AppealMeasure,
    AppealNote,
    AppealNumberCounter,
    AppealPolicy,
    AppealReason,
    AppealUnitRequest,
)
from service.db.models.audit import AuditEntry
from service.db.models.availability import Absence, Shift, SlotPolicy
from service.db.models.checklists import ChecklistAnswer, ChecklistTemplate, VisitChecklist
from service.db.models.coordination import (
    BusinessCalendar,
    Holiday,
    Rating,
    SlaClock,
    SlaPolicy,
    TerritorySlaProfile,
    WorkOrderEvent,
)
from service.db.models.customers import Customer
from service.db.models.escalations import Escalation
from service.db.models.follow_ups import FollowUpTask
from service.db.models.incidents import Incident
from service.db.models.jobs import JobSchedule
from service.db.models.mobile import (
    Device,
    IdempotencyKey,
    Photo,
    SyncOperation,
    TechnicianChange,
    VisitRecord,
)
from service.db.models.outbox import OutboxMessage
from service.db.models.owners import OrderOwner
from service.db.models.sessions import AuthSession, LoginFailure, LoginRateWindow
from service.db.models.signing import ActSignature, CustomerLink
from service.db.models.sites import Site
from service.db.models.technicians import Technician, technician_territories
from service.db.models.territories import Territory
from service.db.models.users import RefreshToken, User, user_territories
from service.db.models.visits import Visit
from service.db.models.work_orders import WorkOrder

__all__ = [
    "Absence",
    "Act",
    "ActNumberCounter",
    "ActSignature",
    "Appeal",
    "AppealAttachment",
    "AppealEscalation",
    "AppealLetter",
    "AppealMeasure",
    "AppealNote",
    "AppealNumberCounter",
    "AppealPolicy",
    "AppealReason",
    "AppealUnitRequest",
    "AuditEntry",
    "AuthSession",
    "BusinessCalendar",
    "ChecklistAnswer",
    "ChecklistTemplate",
    "Customer",
    "CustomerLink",
    "Device",
    "Escalation",
    "FollowUpTask",
    "Holiday",
    "IdempotencyKey",
    "Incident",
    "JobSchedule",
    "LoginFailure",
    "LoginRateWindow",
    "OrderOwner",
    "OutboxMessage",
    "Photo",
    "Rating",
    "RefreshToken",
    "Shift",
    "Site",
    "SlaClock",
    "SlaPolicy",
    "SlotPolicy",
    "SyncOperation",
    "Technician",
    "TechnicianChange",
    "Territory",
    "TerritorySlaProfile",
    "User",
    "Visit",
    "VisitChecklist",
    "VisitRecord",
    "WorkOrder",
    "WorkOrderEvent",
    "technician_territories",
    "user_territories",
]
