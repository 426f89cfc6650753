"""What one e-mail costs the notifier's CPU, without a network: the sample events of every
message variant in every language, each composed, rendered (what is recorded) and turned
into the bytes ``aiosmtplib`` would put on the wire (what is sent), with the envelope it
would take from the message. A measurement of CPU time (``time.process_time``), run on its
own:

    PYTHONPATH=bench uv run python -m rinnovo_bench.mail_cost [N]
"""

import sys
import time
from collections.abc import Callable

from aiosmtplib.email import extract_recipients, extract_sender, flatten_message

from rinnovo.notifier.channels.base import Delivery
from rinnovo.notifier.channels.email import EmailChannel, build_message
from rinnovo.notifier.domain.compose import compose
from rinnovo.notifier.domain.identity import notification_id
from rinnovo.notifier.domain.notifications import Audience, Target
from rinnovo.notifier.rendering import Renderer
from rinnovo.runtime.clock import FixedClock
from rinnovo.runtime.locales import SUPPORTED
from rinnovo.testing.notifier import plain_smtp
from rinnovo.testing.notifier_samples import AT, samples

CONFIG = plain_smtp(25, reply_to="Assistenza <assistenza@example.it>")
GLOBALS = {"area_url": "https://area-clienti.example.it", "brand": "Area Clienti Fatturazione"}
CLOCK = FixedClock(AT)


def deliveries(channel: EmailChannel) -> list[Delivery]:
    """One recorded delivery per message variant and language."""
    found = []
    for locale in SUPPORTED:
        for sample in samples(locale):
            message = compose(sample.event, order=sample.order)
            assert message is not None
            nid = notification_id(message.cause.event_id, "email", message.template.value)
            target = Target("", message.recipient.email, Audience.CUSTOMER)
            content = channel.prepare(message, nid, target)
            found.append(
                Delivery(
                    nid, message.template.value, target, message.recipient.name, locale, content, 1
                )
            )
    return found


def on_the_wire(delivery: Delivery) -> bytes:
    """What ``aiosmtplib.send`` does with a message before talking to the server."""
    message = build_message(CONFIG, delivery, CLOCK)
    sender, recipients = extract_sender(message), extract_recipients(message)
    assert sender and recipients
    return flatten_message(message, utf8=False, cte_type="8bit")


def per_email_ms(n: int, work: Callable[[int], object]) -> float:
    work(0)  # warm up: templates compiled, modules imported
    start = time.process_time()
    for i in range(n):
        work(i)
    return (time.process_time() - start) * 1000 / n


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    renderer = Renderer(GLOBALS)
    channel = EmailChannel(CONFIG, renderer, CLOCK)
    recorded = deliveries(channel)
    variants = [s for locale in SUPPORTED for s in samples(locale)]

    def prepare(i: int) -> object:
        sample = variants[i % len(variants)]
        message = compose(sample.event, order=sample.order)
        assert message is not None
        target = Target("", message.recipient.email, Audience.CUSTOMER)
        return channel.prepare(message, "n", target)

    def send(i: int) -> object:
        return on_the_wire(recorded[i % len(recorded)])

    composed = per_email_ms(n, prepare)
    wire = per_email_ms(n, send)
    print(f"{n} e-mails, {len(recorded)} variants, CPU ms per e-mail (time.process_time):")
    print(f"  compose + render (recorded)   {composed:.3f}")
    print(f"  message + envelope + bytes     {wire:.3f}")
    print(f"  total                          {composed + wire:.3f}")


if __name__ == "__main__":
    main()
