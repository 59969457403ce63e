"""The phone app's surface (/mobile/v1): routers, phone schemas, the sync protocol's HTTP side.

No business rules live here: every handler calls a service in ``service/``.
"""

from mobile_api.router import mobile_router

__all__ = ["mobile_router"]
