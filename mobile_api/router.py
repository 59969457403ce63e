"""The /mobile/v1 router: technician + live device on every call, Idempotency-Key on POSTs."""

from __future__ import annotations

from litestar import Router
from litestar.di import Provide

from mobile_api.controllers import (
    ActController,
    CustomerCopyController,
    DayController,
    MobileMeController,
    MobileVisitController,
    PhotoController,
    SigningController,
    SyncController,
)
from mobile_api.deps import provide_technician, provide_technician_reads
from mobile_api.idempotency import IdempotencyMiddleware

mobile_router = Router(
    path="/mobile/v1",
    route_handlers=[
        DayController,
        MobileMeController,
        SyncController,
        MobileVisitController,
        PhotoController,
        ActController,
        SigningController,
        CustomerCopyController,
    ],
    dependencies={
        "technician": Provide(provide_technician),
        "technician_reads": Provide(provide_technician_reads),
    },
    middleware=[IdempotencyMiddleware()],
)
