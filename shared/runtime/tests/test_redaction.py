"""What the log redaction masks, and what it leaves for operators to read."""

from rinnovo.runtime.redaction import REDACTED, scrub


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
