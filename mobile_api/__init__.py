"""The phone app's surface (/mobile/v1): routers, phone schemas, the sync protocol's HTTP side.

No business rules live here: every handler calls a service in ``service/``.
"""

from pathlib import Path

from mobile_api.router import mobile_router

TEMPLATES_DIR = Path(__file__).parent / "templates"

__all__ = ["TEMPLATES_DIR", "mobile_router"]
