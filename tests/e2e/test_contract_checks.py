"""The contract check the end-to-end tests apply to every event can fail: it accepts every
kind of event the services publish, and refuses one that breaks the published schema."""

import copy
import json
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from rinnovo.contracts.topics import topic_for
from rinnovo.testing.notifier_samples import samples
from tests.e2e.system import check_event, consumers_schemas

SAMPLES = [(topic_for(type(s.event)).name, s) for s in samples("it")]


def as_on_the_wire(event: Any) -> dict[str, Any]:
    wire: dict[str, Any] = json.loads(event.model_dump_json())
    return wire


@pytest.mark.parametrize(("topic", "sample"), SAMPLES, ids=[s.name for _, s in SAMPLES])
def test_every_kind_of_event_passes(topic: str, sample: Any) -> None:
    check_event(topic, as_on_the_wire(sample.event))


def test_every_consumed_topic_has_a_consumer_schema() -> None:
    assert set(consumers_schemas("orders.service.v1")) == {"notifier"}
    assert set(consumers_schemas("payments.payment.v1")) == {"notifier", "orders"}


def test_an_event_breaking_the_schema_is_refused() -> None:
    topic, sample = SAMPLES[0]
    event = as_on_the_wire(sample.event)
    for broken in (
        {**event, "payload": {**event["payload"], "amount_cents": "12,00"}},
        {k: v for k, v in event.items() if k != "aggregate_id"},
        {**event, "type": "payments.payment.unheard_of"},
    ):
        with pytest.raises((jsonschema.ValidationError, ValidationError, FileNotFoundError)):
            check_event(topic, copy.deepcopy(broken))
