"""What a user's own tests import from campaign-mock.

    import pytest
    from campaign_mock.testing import ServeSettings

    @pytest.fixture(scope="session")
    def campaign_mock_settings():
        return ServeSettings(spec="campaigns", api_keys=["k"], rate_limit="5/s", log_requests=False, port=0)

The ``campaign_mock`` fixture itself is registered by the pytest plugin that installing
campaign-mock adds (entry point ``pytest11``); this module gathers the names around it.
"""

from __future__ import annotations

from campaign_mock.server.admin_client import AdminClient, AdminError, ClientNotClean
from campaign_mock.server.pytest_plugin import DEFAULT_TEST_KEY, RunningMock
from campaign_mock.server.run.config import ServeSettings

__all__ = ["DEFAULT_TEST_KEY", "AdminClient", "AdminError", "ClientNotClean", "RunningMock", "ServeSettings"]
