"""End-to-end fixtures: the mobile fixtures."""

from tests.integration.conftest import build, test_sessions, web  # noqa: F401
from tests.integration.mobile.conftest import field  # noqa: F401
