"""E-mail over SMTP (aiosmtplib): multipart text + HTML, STARTTLS or implicit TLS, login.

Each message carries a ``Message-ID`` derived from its notification id, the same on every
attempt: if the process stops after the server accepted a message but before that was
recorded, the message is sent again with the same id, which receiving servers and mail
clients can recognise as a duplicate.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr

import aiosmtplib
from pydantic import SecretStr

from rinnovo.notifier.channels.base import ChannelContext, Delivery
from rinnovo.notifier.channels.email_headers import POLICY
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


def build_message(config: SmtpConfig, delivery: Delivery, clock: Clock) -> EmailMessage:
    content = delivery.content
    message = EmailMessage(policy=POLICY)
    message["From"] = config.mail_from
    message["To"] = formataddr((delivery.recipient_name, delivery.target.address))
    if config.reply_to:
        message["Reply-To"] = config.reply_to
    message["Subject"] = content["subject"]
    message["Date"] = clock.now()  # formatted by the header, not parsed back from text
    message["Message-ID"] = message_id(delivery.notification_id, config.message_id_domain)
    # RFC 3834: automatic, so vacation responders stay quiet.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Rinnovo-Notification"] = delivery.notification_id
    # Quoted-printable keeps the message 7-bit clean for any server on the way.
    message.set_content(content["text"], cte="quoted-printable")
    # "=_" never occurs in quoted-printable text (RFC 2045 6.7), so this boundary cannot
    # meet either part and need not be searched for in them, as a random one would be.
    message.make_alternative(boundary=f"=_{delivery.notification_id}")
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
