"""E-mail over SMTP (aiosmtplib): multipart text + HTML, STARTTLS or implicit TLS, login.

Each message carries a ``Message-ID`` derived from its notification id, the same on every
attempt: if the process stops after the server accepted a message but before that was
recorded, the message is sent again with the same id, which receiving servers and mail
clients can recognise as a duplicate.

The subject is folded by the standard library's ``email.header.Header``, not by the
default policy's folder, which reads back differently from what was recorded: when a line
break falls just before an encoded word (``è``, ``€``), Python 3.11 keeps the space before
the break and adds one after it, so the customer reads two spaces (python/cpython#144156);
and an ASCII subject too long for the first line is moved whole to a continuation line,
which parsers read with a leading space. Here ASCII text is folded at its spaces, and text
with anything else becomes UTF-8 encoded words, joined by folding white space that decoders
drop: unfolded and decoded, the subject is exactly the text recorded. The holder's name in
``To`` is encoded the same way when it is not ASCII (the default folder can drop a space
between two of its words near a fold).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from email.header import Header
from email.headerregistry import (
    Address,
    BaseHeader,
    HeaderRegistry,
    UniqueAddressHeader,
    UnstructuredHeader,
)
from email.message import EmailMessage
from email.policy import Policy, default
from email.utils import format_datetime, formataddr

import aiosmtplib
from pydantic import SecretStr

from rinnovo.notifier.channels.base import ChannelContext, Delivery
from rinnovo.notifier.domain.delivery import Outcome, Refused, RetryLater, Sent
from rinnovo.notifier.domain.identity import message_id
from rinnovo.notifier.domain.messages import Message
from rinnovo.notifier.domain.notifications import Audience, Target
from rinnovo.notifier.rendering import Renderer
from rinnovo.runtime.clock import Clock


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    starttls: bool
    tls: bool
    validate_certs: bool
    username: str | None
    password: SecretStr | None
    timeout_seconds: float
    mail_from: str
    reply_to: str | None
    message_id_domain: str


class _Subject(UnstructuredHeader, BaseHeader):
    def fold(self, *, policy: Policy) -> str:
        if getattr(policy, "utf8", False):  # SMTPUTF8: sent as it is, nothing to encode
            return super().fold(policy=policy)
        text, limit, linesep = str(self), policy.max_line_length or 78, policy.linesep
        plain = text.isascii() and "=?" not in text
        folded = Header(text, "us-ascii" if plain else "utf-8", limit, self.name).encode(
            linesep=linesep
        )
        if folded.startswith(linesep):  # a first word longer than the line: split it
            folded = Header(text, "utf-8", limit, self.name).encode(linesep=linesep)
        return f"{self.name}: {folded}{linesep}"


# typeshed declares the header mixins apart from BaseHeader; the registry joins them.
class _Addressee(UniqueAddressHeader, BaseHeader):  # type: ignore[misc]
    def fold(self, *, policy: Policy) -> str:
        [address] = self.addresses  # one recipient per message
        name, linesep = address.display_name, policy.linesep
        if name.isascii() or not address.addr_spec.isascii() or getattr(policy, "utf8", False):
            return super().fold(policy=policy)
        words = Header(name, "utf-8", policy.max_line_length or 78, self.name)
        return (
            f"{self.name}: {words.encode(linesep=linesep)}{linesep} <{address.addr_spec}>{linesep}"
        )


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("subject", _Subject)
_HEADERS.map_to_type("to", _Addressee)
POLICY = default.clone(header_factory=_HEADERS)
"""The default policy, with the subject and the addressee folded as described above."""


def build_message(config: SmtpConfig, delivery: Delivery, clock: Clock) -> EmailMessage:
    content = delivery.content
    message = EmailMessage(policy=POLICY)
    message["From"] = config.mail_from
    message["To"] = formataddr((delivery.recipient_name, delivery.target.address))
    if config.reply_to:
        message["Reply-To"] = config.reply_to
    message["Subject"] = content["subject"]
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = message_id(delivery.notification_id, config.message_id_domain)
    # RFC 3834: automatic, so vacation responders stay quiet.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Rinnovo-Notification"] = delivery.notification_id
    # Quoted-printable keeps the message 7-bit clean for any server on the way.
    message.set_content(content["text"], cte="quoted-printable")
    message.add_alternative(content["html"], subtype="html", cte="quoted-printable")
    message["Content-Language"] = delivery.locale  # after the bodies: they reset Content-*
    return message


def classify(exc: Exception) -> Outcome:
    """SMTP's own rule: 4xx replies are transient, 5xx permanent. Not reaching the server,
    a timeout, or a refused login, greeting or sender (configuration, fixed by an operator)
    are retried: the message itself is not at fault."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        reason = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
        if codes and all(500 <= c < 600 for c in codes):
            return Refused(f"recipient refused: {reason}", codes[0])
        return RetryLater(f"recipient deferred: {reason}", codes[0] if codes else None)
    if isinstance(
        exc,
        aiosmtplib.SMTPAuthenticationError
        | aiosmtplib.SMTPHeloError
        | aiosmtplib.SMTPSenderRefused,
    ):
        return RetryLater(f"{exc.code} {exc.message}", exc.code)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        text = f"{exc.code} {exc.message}"
        if 500 <= exc.code < 600:
            return Refused(text, exc.code)
        return RetryLater(text, exc.code)
    return RetryLater(f"{type(exc).__name__}: {exc}")


class EmailChannel:
    name = "email"

    def __init__(self, config: SmtpConfig, renderer: Renderer, clock: Clock) -> None:
        self.config = config
        self.renderer = renderer
        self.clock = clock
        # Checked once: a bad From address is a deployment error, not a message's.
        Address(addr_spec=_addr_spec(config.mail_from))

    async def targets(self, message: Message) -> Sequence[Target]:
        return [Target(key="", address=message.recipient.email, audience=Audience.CUSTOMER)]

    def prepare(self, message: Message, notification_id: str, target: Target) -> dict[str, str]:
        rendered = self.renderer.render(message)
        return {"subject": rendered.subject, "text": rendered.text, "html": rendered.html}

    async def send(self, delivery: Delivery) -> Outcome:
        c = self.config
        message = build_message(c, delivery, self.clock)
        try:
            _refused, reply = await aiosmtplib.send(
                message,
                hostname=c.host,
                port=c.port,
                username=c.username,
                password=c.password.get_secret_value() if c.password else None,
                use_tls=c.tls,
                start_tls=c.starttls if not c.tls else False,
                validate_certs=c.validate_certs,
                timeout=c.timeout_seconds,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            return classify(exc)
        return Sent(detail=reply.strip())

    async def close(self) -> None:
        return None


def _addr_spec(mailbox: str) -> str:
    return mailbox.rsplit("<", 1)[-1].rstrip(">").strip()


class EmailPlugin:
    name = "email"
    description = "E-mail to the holder's reference address over SMTP."

    def build(self, context: ChannelContext) -> EmailChannel:
        s = context.settings
        config = SmtpConfig(
            host=s.smtp_host,
            port=s.smtp_port,
            starttls=s.smtp_starttls,
            tls=s.smtp_tls,
            validate_certs=s.smtp_validate_certs,
            username=s.smtp_username,
            password=s.smtp_password,
            timeout_seconds=s.smtp_timeout_seconds,
            mail_from=s.mail_from,
            reply_to=s.reply_to,
            message_id_domain=s.message_id_domain,
        )
        return EmailChannel(config, context.renderer, context.clock)


plugin = EmailPlugin()
