"""Settings shared by every service; each service adds its own with an env prefix.

The infrastructure addresses are read without a prefix (``KAFKA_BOOTSTRAP_SERVERS``,
``MONGODB_URL``) because all services of one deployment share them; everything a service
owns is read with its prefix (``RINNOVO_ORDERS_HTTP_PORT``, ...).
"""

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from rinnovo.runtime.aggregates import INBOX_SIZE
from rinnovo.runtime.kafka_security import KafkaSecurity
from rinnovo.runtime.safety import DEV_MODE_ENV

MIB = 1024 * 1024


class InfraSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    mongodb_url: SecretStr = Field(
        default=SecretStr("mongodb://127.0.0.1:27017/"),
        description="May hold a password: kept out of reprs, logs and the settings' dumps.",
    )
    kafka_topic_partitions: int = Field(default=3, ge=1)
    kafka_replication_factor: int = Field(default=1, ge=1)
    kafka_topic_prefix: str = Field(
        default="", description="Prepended to every topic name: one cluster, several stacks."
    )
    kafka_security: KafkaSecurity = Field(default_factory=KafkaSecurity)
    schema_registry_url: str = Field(
        default="", description="Confluent-compatible schema registry API; none if empty."
    )


class ServiceSettings(BaseSettings):
    """Base of each service's settings; subclasses set ``env_prefix``."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    infra: InfraSettings = Field(default_factory=InfraSettings)
    database: str = Field(default="", description="MongoDB database; defaults to rinnovo_<name>.")
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=0, le=65535)
    log_level: str = "INFO"
    log_json: bool = True
    outbox_poll_seconds: float = Field(
        default=2.0,
        gt=0,
        description="The relay publishes at once what this process wrote; it looks for "
        "other replicas' events this often.",
    )
    outbox_lease_seconds: float = Field(
        default=10.0, gt=0, description="A dead replica's relay is taken over after this."
    )
    consumer_group: str = Field(default="", description="Defaults to rinnovo-<name>.")
    consumer_batch_size: int = Field(
        default=200,
        ge=1,
        le=INBOX_SIZE,
        description="Records a consumer handles at once, at most (no more than an aggregate's "
        "inbox remembers, so a redelivered batch changes nothing).",
    )
    consumer_wait_ms: int = Field(
        default=100,
        ge=1,
        description="How long an idle consumer waits for records, then again before it looks "
        "(a record arriving in the second wait is taken that much later).",
    )
    io_metrics: bool = Field(
        default=False,
        description="Count database commands and Kafka requests on /metrics (benchmarks).",
    )
    probe_seconds: float = Field(
        default=15.0, gt=0, description="How often readiness and consumer lag are probed."
    )
    time_travel: bool = Field(
        default=False,
        description="Demo and test deployments only: lets an admin move this service's clock.",
    )
    # Security (docs/security.md).
    dev_mode: bool = Field(
        default=False,
        validation_alias=DEV_MODE_ENV,
        description="Development and tests only: allows the public default secrets.",
    )
    max_body_bytes: int = Field(
        default=MIB, ge=1024, description="Larger request bodies get 413 before being read."
    )

    def api_url(self) -> str:
        """Where this service's HTTP API answers, from this machine."""
        host = "127.0.0.1" if self.http_host in ("", "0.0.0.0", "::") else self.http_host
        return f"http://{host}:{self.http_port}"

    metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="Serve /metrics on this port only; without it, /metrics is served on the "
        "API's port in development mode and not at all otherwise.",
    )

    def addresses(self, name: str) -> list[tuple[str, str]]:
        """What this service offers, and where: the table ``rinnovo run all`` prints."""
        rows = [(f"{name} API", self.api_url()), (f"{name} API docs", f"{self.api_url()}/docs")]
        if self.metrics_port is not None:
            host = self.api_url().rsplit(":", 1)[0]
            rows.append((f"{name} metrics", f"{host}:{self.metrics_port}/metrics"))
        elif self.dev_mode:
            rows.append((f"{name} metrics", f"{self.api_url()}/metrics"))
        return rows
