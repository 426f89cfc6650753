"""Load the devstack fixtures here too, unless the root conftest already did."""

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.import_plugin("rinnovo.devstack.pytest_plugin")
