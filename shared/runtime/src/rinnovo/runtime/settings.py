"""Settings shared by every service; each service adds its own with an env prefix.

The infrastructure addresses are read without a prefix (``KAFKA_BOOTSTRAP_SERVERS``,
``MONGODB_URL``) because all services of one deployment share them; everything a service
owns is read with its prefix (``RINNOVO_ORDERS_HTTP_PORT``, ...).
"""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class InfraSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    mongodb_url: str = "mongodb://127.0.0.1:27017/"
    kafka_topic_partitions: int = Field(default=3, ge=1)
    kafka_replication_factor: int = Field(default=1, ge=1)
    kafka_topic_prefix: str = Field(
        default="", description="Prepended to every topic name: one cluster, several stacks."
    )


class ServiceSettings(BaseSettings):
    """Base of each service's settings; subclasses set ``env_prefix``."""

    model_config = SettingsConfigDict(extra="ignore")

    infra: InfraSettings = Field(default_factory=InfraSettings)
    database: str = Field(default="", description="MongoDB database; defaults to rinnovo_<name>.")
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=0, le=65535)
    log_level: str = "INFO"
    log_json: bool = True
    outbox_poll_seconds: float = Field(default=0.2, gt=0)
    outbox_lease_seconds: float = Field(
        default=10.0, gt=0, description="A dead replica's relay is taken over after this."
    )
    consumer_group: str = Field(default="", description="Defaults to rinnovo-<name>.")
    io_metrics: bool = Field(
        default=False,
        description="Count database commands and Kafka requests on /metrics (benchmarks).",
    )
    time_travel: bool = Field(
        default=False,
        description="Demo and test deployments only: lets an admin move this service's clock.",
    )
