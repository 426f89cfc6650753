"""What the log redaction masks, and what it leaves for operators to read."""

import pytest

from rinnovo.runtime.cli import addresses
from rinnovo.runtime.redaction import REDACTED, scrub
from rinnovo.runtime.settings import InfraSettings


def test_fields_named_as_secret_or_personal_are_replaced_at_any_depth() -> None:
    logged = {
        "event": "payment registered",
        "order_id": "ord-1",
        "smtp_password": "hunter2",
        "Authorization": "Bearer abc",
        "payload": {"holder": {"name": "Mario Rossi"}, "iban": "IT60X0542811101000000123456"},
        "attempts": [{"api_key": "k"}, 3],
    }
    assert scrub(logged) == {
        "event": "payment registered",
        "order_id": "ord-1",
        "smtp_password": REDACTED,
        "Authorization": REDACTED,
        "payload": {"holder": REDACTED, "iban": REDACTED},
        "attempts": [{"api_key": REDACTED}, 3],
    }


def test_secrets_and_personal_data_inside_text_are_masked() -> None:
    text = (
        "refused Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjMSJ9.c2ln for mario.rossi@example.it, "
        "key whsec_0123456789abcdef, IBAN IT60 X054 2811 1010 0000 0123 456, "
        "mongodb://rinnovo:s3cret@db:27017/ and ?token=abc123"
    )
    masked = scrub(text)
    for leaked in ("eyJ", "mario.rossi", "whsec_0123", "IT60", "s3cret", "abc123"):
        assert leaked not in masked, masked
    assert masked.startswith("refused Bearer ")
    assert "mongodb://[redacted]@db:27017/" in masked


def test_the_database_password_stays_out_of_the_settings_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MONGODB_URL", "mongodb://rinnovo:s3cret-pw@db.example:27017/?tls=true")
    infra = InfraSettings()
    shown = " ".join([repr(infra), str(infra), infra.model_dump_json()])
    assert "s3cret-pw" not in shown
    assert "s3cret-pw" in infra.mongodb_url.get_secret_value()  # what the client is given
    table = dict(addresses({}))
    assert table["MongoDB"] == "mongodb://rinnovo:***@db.example:27017/?tls=true"
