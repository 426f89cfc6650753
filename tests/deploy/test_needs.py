"""Which settings a deployment must set, as derived from a settings class."""

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

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
