"""The notifier's settings, read from ``RINNOVO_NOTIFIER_*`` environment variables."""

from datetime import timedelta

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from rinnovo.notifier.domain.delivery import RetryPolicy
from rinnovo.runtime.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RINNOVO_NOTIFIER_", extra="ignore")

    http_port: int = 8004
    channels: str = Field(
        default="email,webhook",
        description="Comma-separated allow-list of channel plugins (entry points "
        "`rinnovo.notifier.channels`); an installed channel not named here never loads.",
    )
    default_locale: str = Field(default="it", description="For holders of another language.")
    customer_area_url: str = "https://area-clienti.example.it"
    brand: str = "Area Clienti Fatturazione Elettronica"

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = Field(default=True, description="Require STARTTLS (port 587).")
    smtp_tls: bool = Field(default=False, description="Implicit TLS from the start (port 465).")
    smtp_validate_certs: bool = True
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    mail_from: str = "Area Clienti <noreply@example.it>"
    reply_to: str | None = None
    message_id_domain: str = Field(
        default="notifier.example.it", description="Right-hand side of every Message-ID."
    )

    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_allow_plain_http: bool = Field(
        default=False, description="Accept http:// endpoints on hosts other than loopback."
    )
    webhook_allow_loopback: bool = Field(
        default=False,
        description="Tests only, in development mode: endpoints on this machine. Private, "
        "link-local and metadata addresses are refused whatever this says.",
    )
    webhook_secret_keys: list[SecretStr] = Field(
        default_factory=list,
        description="Fernet keys that seal endpoints' signing secrets at rest: the first seals, "
        "each opens (rotation). Required outside development mode.",
        json_schema_extra={"required_in_production": True},
    )

    retry_initial_seconds: float = Field(default=30.0, gt=0)
    retry_max_seconds: float = Field(default=3600.0, gt=0)
    max_attempts: int = Field(default=12, ge=1, description="Then a message is failed.")
    delivery_lease_seconds: float = Field(
        default=300.0, gt=0, description="A claimed delivery is retried by another replica after."
    )
    delivery_poll_seconds: float = Field(default=5.0, gt=0)

    def addresses(self, name: str) -> list[tuple[str, str]]:
        return [*super().addresses(name), ("SMTP target of the e-mails", self.smtp_target())]

    def smtp_target(self) -> str:
        return f"{self.smtp_host}:{self.smtp_port}"

    def allowed_channels(self) -> list[str]:
        return [c.strip() for c in self.channels.split(",") if c.strip()]

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            initial=timedelta(seconds=self.retry_initial_seconds),
            maximum=timedelta(seconds=self.retry_max_seconds),
            max_attempts=self.max_attempts,
        )
