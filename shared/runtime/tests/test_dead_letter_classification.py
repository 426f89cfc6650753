import json
from datetime import UTC, datetime

import pytest
from pymongo.errors import AutoReconnect, DuplicateKeyError

from rinnovo.contracts.topics import CATALOG_PRODUCT
from rinnovo.runtime.dead_letters import PoisonMessage, is_transient


def classify(body: bytes) -> str:
    try:
        CATALOG_PRODUCT.parse(body)
    except ValueError as exc:
        return PoisonMessage.from_validation(exc).kind
    pytest.fail("the body was accepted")


ENVELOPE = {
    "event_id": "6f1c6a52-1d1e-4bb0-8a34-0a3b3f1b9c11",
    "type": "catalog.product.snapshot",
    "schema_version": 1,
    "occurred_at": datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
    "producer": "catalog",
    "aggregate_id": "p",
    "aggregate_version": 1,
    "correlation_id": "c",
    "payload": {},
}


def test_bad_json_is_invalid_json() -> None:
    assert classify(b"{nope") == "invalid_json"
    assert classify(b"\xff\xfe") == "invalid_json"


def test_an_unknown_type_is_named_as_such() -> None:
    assert classify(json.dumps({**ENVELOPE, "type": "catalog.product.deleted"}).encode()) == (
        "unknown_type"
    )


def test_a_known_type_with_a_bad_payload_is_a_schema_violation() -> None:
    assert classify(json.dumps(ENVELOPE).encode()) == "schema_violation"


def test_only_unreachable_servers_are_transient() -> None:
    assert is_transient(AutoReconnect("primary gone"))
    assert not is_transient(DuplicateKeyError("dup"))
    assert not is_transient(KeyError("bug"))
