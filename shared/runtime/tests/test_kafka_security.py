"""What every Kafka client of a service is given to log in: the broker (consumers, the
relay's and the dead letters' producer) and the admin client alike. The login itself is
run end to end on a broker with SASL in tests/e2e/test_journeys.py."""

import ssl

import pytest
from faststream.security import SASLScram512
from pydantic import SecretStr, ValidationError

from rinnovo.runtime.kafka import client_options, make_broker
from rinnovo.runtime.kafka_security import KafkaSecurity
from rinnovo.runtime.metrics import Metrics
from rinnovo.runtime.settings import InfraSettings


def test_plaintext_by_default_adds_nothing() -> None:
    assert KafkaSecurity().faststream() is None
    assert KafkaSecurity().client_options() == {}


def test_sasl_ssl_with_scram_sha_512_verifies_the_brokers() -> None:
    security = KafkaSecurity(
        security_protocol="SASL_SSL", sasl_username="rinnovo-orders", sasl_password=SecretStr("pw")
    )
    options = security.client_options()
    context = options.pop("ssl_context")
    assert options == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "rinnovo-orders",
        "sasl_plain_password": "pw",
    }
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_sasl_without_credentials_is_refused() -> None:
    with pytest.raises(ValidationError, match="KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"):
        KafkaSecurity(security_protocol="SASL_PLAINTEXT")


def test_the_environment_reaches_the_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "rinnovo-payments")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "pw")
    infra = InfraSettings()
    broker = make_broker(infra, "payments", Metrics())
    security = broker.specification.security  # what the broker connects with
    assert isinstance(security, SASLScram512)
    assert (security.username, security.use_ssl) == ("rinnovo-payments", False)
    # and the producer events and dead letters leave through, and the admin client
    options = client_options(infra)
    assert (options["security_protocol"], options["sasl_plain_username"]) == (
        "SASL_PLAINTEXT",
        "rinnovo-payments",
    )
