"""How every Kafka client of a service authenticates: TLS and SASL (SCRAM-SHA-512 first).

Read from ``KAFKA_*`` without a service prefix, like the bootstrap servers; each service runs
as its own process, so each is given its own principal (``KAFKA_SASL_USERNAME``) and the
broker's ACLs say which topics it may write (docs/security.md). The same settings reach the
FastStream broker (consumers, the outbox relay's and the dead letters' producer) and the
admin client that creates topics.
"""

from pathlib import Path
from typing import Any, Literal

from aiokafka.helpers import create_ssl_context
from faststream.kafka.security import parse_security
from faststream.security import (
    BaseSecurity,
    SASLPlaintext,
    SASLScram256,
    SASLScram512,
)
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Protocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
Mechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]

_SASL = {"SCRAM-SHA-512": SASLScram512, "SCRAM-SHA-256": SASLScram256, "PLAIN": SASLPlaintext}


class KafkaSecurity(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore")

    security_protocol: Protocol = Field(
        default="PLAINTEXT", description="SASL_SSL in production; PLAINTEXT for a dev box."
    )
    sasl_mechanism: Mechanism = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = Field(
        default=None, description="CA of the brokers' certificates (default: the system's)."
    )
    ssl_certfile: Path | None = Field(default=None, description="Client certificate (mTLS).")
    ssl_keyfile: Path | None = None

    @model_validator(mode="after")
    def _complete(self) -> "KafkaSecurity":
        if self.sasl and not (self.sasl_username and self.sasl_password):
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL={self.security_protocol} needs "
                "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"
            )
        return self

    @property
    def sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        return self.security_protocol.endswith("SSL")

    def faststream(self) -> BaseSecurity | None:
        """The broker's ``security``; None for PLAINTEXT."""
        if self.security_protocol == "PLAINTEXT":
            return None
        context = (
            create_ssl_context(
                cafile=self.ssl_cafile and str(self.ssl_cafile),
                certfile=self.ssl_certfile and str(self.ssl_certfile),
                keyfile=self.ssl_keyfile and str(self.ssl_keyfile),
            )
            if self.tls
            else None
        )
        if not self.sasl:
            return BaseSecurity(ssl_context=context)
        assert self.sasl_username is not None and self.sasl_password is not None
        return _SASL[self.sasl_mechanism](
            self.sasl_username,
            self.sasl_password.get_secret_value(),
            ssl_context=context,
            use_ssl=self.tls,
        )

    def client_options(self) -> dict[str, Any]:
        """The same, as keyword arguments of any aiokafka client."""
        return parse_security(self.faststream())
