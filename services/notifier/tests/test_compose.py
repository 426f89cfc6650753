"""Which message each event causes: one per fact, and none for what tells nothing new."""

from datetime import UTC, date, datetime

import pytest

from rinnovo.contracts import Event
from rinnovo.contracts.orders import (
    AutomaticRenewalSwitched,
    OrderKind,
    OrderPaid,
    OrderPaidPayload,
    ServiceActivated,
    ServiceRenewed,
)
from rinnovo.contracts.payments import (
    ChargeAttempted,
    ChargeAttemptedPayload,
    InstructionsKind,
    PaymentRegistered,
    PaymentRegisteredPayload,
)
from rinnovo.notifier.domain.compose import compose, order_to_look_up
from rinnovo.notifier.domain.identity import message_id, notification_id
from rinnovo.notifier.domain.messages import CannotNotify, Template
from rinnovo.notifier.rendering import Renderer
from rinnovo.testing.notifier_samples import (
    ORDER_ID,
    Sample,
    event,
    holder,
    known,
    order_placed,
    payment_requested,
    samples,
    service_change,
)


@pytest.mark.parametrize("sample", samples("it"), ids=lambda s: s.name)
def test_each_sample_event_causes_its_message(sample: Sample) -> None:
    message = compose(sample.event, order=sample.order)
    assert message is not None
    assert message.template.value == sample.name.split("-")[0]
    assert message.cause.event_id == str(sample.event.event_id)


def _charge(succeeded: bool, next_attempt_on: date | None) -> Event:
    h = holder()
    payload = ChargeAttemptedPayload(
        payment_id="p",
        order_id=ORDER_ID,
        order_number="RN-1",
        holder=h,
        attempt=2,
        succeeded=succeeded,
        next_attempt_on=next_attempt_on,
    )
    return event(ChargeAttempted, payload, "c")


def _ignored() -> dict[str, tuple[Event, object]]:
    h = holder()
    at = datetime(2027, 3, 1, tzinfo=UTC)
    return {
        "charge succeeded (told by ServiceRenewed)": (_charge(True, None), None),
        "last charge failed (told by PaymentFailed)": (_charge(False, None), None),
        "automatic renewal's payment request": (
            payment_requested(h, InstructionsKind.STORED_METHOD, "s", OrderKind.AUTOMATIC_RENEWAL),
            None,
        ),
        "a renewal order placed (confirmed with its instructions)": (
            order_placed(h, OrderKind.RENEWAL, "o"),
            None,
        ),
        "an imported service": (service_change(ServiceActivated, h, "imp", None, None), None),
        "automatic renewal switched": (
            service_change(AutomaticRenewalSwitched, h, "sw", None, None),
            None,
        ),
        "order paid (told by the service event)": (
            event(
                OrderPaid,
                OrderPaidPayload(
                    order_id=ORDER_ID,
                    number="RN-1",
                    kind=OrderKind.RENEWAL,
                    service_id="svc-1",
                    holder=h,
                    payment_id="p",
                    paid_at=at,
                    total_cents=100,
                ),
                "paid",
            ),
            None,
        ),
        "payment registered": (
            event(
                PaymentRegistered,
                PaymentRegisteredPayload(
                    payment_id="p",
                    order_id=ORDER_ID,
                    order_number="RN-1",
                    method="bank_transfer",
                    amount_cents=100,
                    registered_at=at,
                ),
                "registered",
            ),
            None,
        ),
    }


@pytest.mark.parametrize("case", list(_ignored()))
def test_events_that_tell_nothing_new_cause_no_message(case: str) -> None:
    ev, order = _ignored()[case]
    assert compose(ev, order=order) is None  # type: ignore[arg-type]


def test_a_cancelled_automatic_renewal_order_is_not_told_twice() -> None:
    cancelled = next(s for s in samples("it") if s.name == "order_cancelled-not_paid")
    assert compose(cancelled.event, order=known(OrderKind.AUTOMATIC_RENEWAL)) is None
    assert compose(cancelled.event, order=None) is not None  # unknown order: told


def test_a_renewal_of_an_unknown_order_is_a_plain_renewal_without_its_number(
    renderer: Renderer,
) -> None:
    renewed = service_change(ServiceRenewed, holder(), "r", date(2026, 3, 31))
    assert order_to_look_up(renewed) == ORDER_ID
    message = compose(renewed, order=None)
    assert message is not None and message.template is Template.RENEWAL_COMPLETED
    assert message.facts["order_number"] is None
    rendered = renderer.render(message)
    assert "RN-" not in rendered.text and "None" not in rendered.text
    assert "31/03/2027" in rendered.subject


def test_an_unknown_language_falls_back_to_italian_and_is_remembered() -> None:
    sample = samples("it")[0]
    p = sample.event.payload
    german = sample.event.model_copy(
        update={"payload": p.model_copy(update={"holder": holder("de")})}
    )
    message = compose(german)
    assert message is not None
    assert (message.recipient.locale, message.recipient.requested_locale) == ("it", "de")


def test_instructions_missing_what_the_customer_needs_cannot_be_sent() -> None:
    sample = samples("it")[0]
    p = sample.event.payload
    broken = p.model_copy(update={"instructions": p.instructions.model_copy(update={"iban": None})})
    with pytest.raises(CannotNotify) as caught:
        compose(sample.event.model_copy(update={"payload": broken}))
    assert caught.value.kind == "incomplete_instructions"
    assert "iban" in caught.value.reason


def test_a_notification_id_is_stable_per_cause_channel_and_template() -> None:
    a = notification_id("e1", "email", "order_confirmed")
    assert a == notification_id("e1", "email", "order_confirmed")
    assert a != notification_id("e2", "email", "order_confirmed")
    assert a != notification_id("e1", "webhook", "order_confirmed")
    assert notification_id("e1", "webhook", "t", "ep1") != notification_id(
        "e1", "webhook", "t", "ep2"
    )
    assert message_id(a, "example.it") == f"<{a}@example.it>"
