"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives, an e-mail
channel pointed at it, and the whole notifier on in-memory stores with that channel
(``rinnovo.testing.notifier``)."""

from collections.abc import AsyncIterator, Iterator

import pytest

from rinnovo.notifier.channels.email import EmailChannel, SmtpConfig
from rinnovo.notifier.rendering import Renderer
from rinnovo.runtime.clock import FixedClock
from rinnovo.testing.notifier import Notifier, in_memory, plain_smtp
from rinnovo.testing.notifier_samples import AT
from rinnovo.testing.smtp import Inbox, SmtpServer, free_port

GLOBALS = {
    "area_url": "https://area-clienti.example.it",
    "brand": "Area Clienti Fatturazione Elettronica",
}


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def any_smtp_config() -> SmtpConfig:
    """For building messages without sending them (module-wide, so property tests can use it)."""
    return plain_smtp(free_port())


@pytest.fixture
def renderer() -> Renderer:
    return Renderer(GLOBALS)


@pytest.fixture
def email_channel(smtp_server: SmtpServer, renderer: Renderer) -> EmailChannel:
    return EmailChannel(plain_smtp(smtp_server.port), renderer, FixedClock(AT))


@pytest.fixture
def inbox(smtp_server: SmtpServer) -> Iterator[Inbox]:
    """The server's inbox; whatever refusal a test sets up is lifted after it."""
    yield smtp_server.inbox
    smtp_server.inbox.rcpt_reply = smtp_server.inbox.data_reply = None


@pytest.fixture
def email_channel_to_nowhere(renderer: Renderer) -> EmailChannel:
    """Pointed at a port where no server listens."""
    return EmailChannel(plain_smtp(free_port()), renderer, FixedClock(AT))


@pytest.fixture
async def notifier(
    smtp_server: SmtpServer, inbox: Inbox, renderer: Renderer
) -> AsyncIterator[Notifier]:
    clock = FixedClock(AT)
    inbox.messages.clear()
    built = in_memory(clock, EmailChannel(plain_smtp(smtp_server.port), renderer, clock))
    yield built
    await built.ctx.channels["webhook"].close()
