"""After each attempt: sent, the next attempt with back-off, or given up; and the record."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from rinnovo.notifier.domain.delivery import (
    Refused,
    RetryLater,
    RetryPolicy,
    Sent,
    Status,
    after_attempt,
)
from rinnovo.notifier.domain.notifications import Audience, Notification, Target
from rinnovo.notifier.domain.notifications import attempted as with_attempt

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
POLICY = RetryPolicy(timedelta(seconds=30), timedelta(hours=1), max_attempts=5)


def test_back_off_doubles_up_to_the_maximum() -> None:
    delays = [POLICY.delay(n).total_seconds() for n in range(1, 10)]
    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_a_transient_failure_waits_then_gives_up_at_the_limit() -> None:
    later = after_attempt(RetryLater("421 busy"), 2, POLICY, NOW)
    assert later.status is Status.PENDING
    assert later.next_attempt_at == NOW + timedelta(seconds=60)
    last = after_attempt(RetryLater("421 busy"), 5, POLICY, NOW)
    assert last.status is Status.FAILED and last.next_attempt_at is None
    assert last.error == "gave up after 5 attempts: 421 busy"


def test_a_receiver_asking_to_wait_is_heeded_within_the_maximum() -> None:
    asked = after_attempt(RetryLater("429", 429, timedelta(minutes=10)), 1, POLICY, NOW)
    assert asked.next_attempt_at == NOW + timedelta(minutes=10)
    greedy = after_attempt(RetryLater("429", 429, timedelta(days=1)), 1, POLICY, NOW)
    assert greedy.next_attempt_at == NOW + timedelta(hours=1)


def test_sent_and_refused_are_final() -> None:
    assert after_attempt(Sent(), 3, POLICY, NOW).status is Status.SENT
    refused = after_attempt(Refused("550 no such user", 550), 1, POLICY, NOW)
    assert (refused.status, refused.error) == (Status.FAILED, "550 no such user")


def pending(attempts: int) -> Notification:
    return Notification(
        notification_id="n",
        channel="email",
        template="service_deactivated",
        audience=Audience.CUSTOMER,
        customer_id="c",
        locale="it",
        requested_locale="it",
        target=Target("", "r@example.it", Audience.CUSTOMER),
        recipient_name="R",
        cause_event_id="e",
        cause_type="t",
        cause_aggregate_id="a",
        cause_occurred_at=NOW,
        correlation_id="corr",
        facts={},
        content={},
        created_at=NOW,
        attempts=attempts,
        next_attempt_at=NOW,
    )


def test_every_attempt_is_recorded_and_one_without_an_outcome_says_so() -> None:
    first = with_attempt(pending(1), RetryLater("connection refused"), POLICY, NOW)
    assert [(a.number, a.outcome) for a in first.history] == [(1, "retry")]
    # Attempt 2 was claimed, then the process stopped; attempt 3 succeeds.
    third = with_attempt(replace(first, attempts=3), Sent("250 ok", 250), POLICY, NOW)
    assert [(a.number, a.outcome) for a in third.history] == [
        (1, "retry"),
        (2, "interrupted"),
        (3, "sent"),
    ]
    assert third.status is Status.SENT and third.sent_at == NOW and third.last_error is None
