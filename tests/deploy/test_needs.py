"""Which settings a deployment must set, as derived from a settings class, and as the
services themselves refuse to start without."""

import base64
import json
import os
from importlib.metadata import entry_points
from typing import Any

import pytest
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from rinnovo.runtime.plugins import SERVICES_GROUP
from rinnovo.runtime.safety import InsecureSetting
from tests.deploy.needs import Need, needs, needs_of, services


class Example(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RINNOVO_EXAMPLE_")

    api_key: str
    signing_key: SecretStr = SecretStr("dev-only")
    optional_password: SecretStr | None = None
    licence: str = Field(default="", json_schema_extra={"required_in_production": True})
    relay_host: str = "127.0.0.1"
    page_size: int = 20
    locale: str = "it"


def test_required_marked_development_secrets_and_loopback_defaults_are_needed() -> None:
    found = {need.variable: need for need in needs_of(Example)}
    assert set(found) == {
        "RINNOVO_EXAMPLE_API_KEY",
        "RINNOVO_EXAMPLE_SIGNING_KEY",
        "RINNOVO_EXAMPLE_LICENCE",
        "RINNOVO_EXAMPLE_RELAY_HOST",
    }
    assert found["RINNOVO_EXAMPLE_SIGNING_KEY"].secret
    assert not found["RINNOVO_EXAMPLE_RELAY_HOST"].secret


def test_every_service_needs_the_servers_and_the_token_key() -> None:
    assert {"catalog", "orders", "payments", "notifier"} <= set(services())
    for service in services():
        variables = {need.variable for need in needs(service)}
        assert {"KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URL"} <= variables
        assert Need("RINNOVO_AUTH_SECRET", True, "") in [
            Need(n.variable, n.secret, "") for n in needs(service)
        ]


PRODUCTION_VARIABLES = ("RINNOVO_", "KAFKA_", "MONGODB_", "SCHEMA_REGISTRY_")


def strong_value(variable: str, service: str) -> str:
    """Random key material fit for any of these settings (a Fernet key is 32 random bytes in
    URL-safe base64), as a JSON list where the setting is a list."""
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    [need] = [n for n in needs(service) if n.variable == variable]
    return json.dumps([key]) if need.is_list else key


@pytest.mark.parametrize("service", services())
def test_outside_development_mode_a_service_refuses_only_what_deployments_are_told_to_set(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built as a deployment builds it, from nothing: each setting it refuses to start
    without is one the manifests are checked to give; given those, it builds."""
    for variable in list(os.environ):
        if variable.startswith(PRODUCTION_VARIABLES):
            monkeypatch.delenv(variable)
    [plugin] = [ep.load() for ep in entry_points(group=SERVICES_GROUP) if ep.name == service]
    needed = {need.variable for need in needs(service)}
    refused: list[str] = []
    while (refusal := refused_over(plugin)) is not None:
        setting = refusal.setting.split("[")[0]
        assert setting in needed, f"{service} refuses to start over {refusal}, not derived"
        assert setting not in refused, f"{service} still refuses {refusal}"
        refused.append(setting)
        monkeypatch.setenv(setting, strong_value(setting, service))
    assert "RINNOVO_AUTH_SECRET" in refused


def refused_over(plugin: Any) -> InsecureSetting | None:
    try:
        plugin.build()
    except InsecureSetting as exc:
        return exc
    return None
