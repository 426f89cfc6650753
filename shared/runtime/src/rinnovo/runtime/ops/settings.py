"""What the operators' commands connect to: the settings the services themselves read.

Kafka and MongoDB are the deployment's (``KAFKA_*`` with SASL and TLS, ``MONGODB_URL``,
``KAFKA_TOPIC_PREFIX``); each service's database and consumer group come from its own
prefixed settings (``RINNOVO_ORDERS_DATABASE``, ``RINNOVO_ORDERS_CONSUMER_GROUP``), read by
the same settings class the service uses. Replays are recorded in a database of the
operators' own (``RINNOVO_OPERATIONS_DATABASE``), never in a service's.
"""

import argparse
import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict
from pymongo import AsyncMongoClient

from rinnovo.runtime.kafka import client_options
from rinnovo.runtime.plugins import RunnerSettings
from rinnovo.runtime.settings import InfraSettings, ServiceSettings

Document = dict[str, Any]


class OperationsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RINNOVO_OPERATIONS_", extra="ignore")

    database: str = "rinnovo_operations"
    """Where operators' tools keep what they did (the replays of dead letters)."""


@dataclass(frozen=True)
class ServiceView:
    name: str
    database: str
    group: str


@dataclass(frozen=True)
class Deployment:
    infra: InfraSettings
    operations: OperationsSettings
    services: tuple[ServiceView, ...]

    @classmethod
    def from_environment(cls) -> "Deployment":
        return cls(InfraSettings(), OperationsSettings(), tuple(map(_view, _names())))

    @property
    def kafka(self) -> dict[str, Any]:
        return client_options(self.infra)

    def topic(self, name: str) -> str:
        return self.infra.kafka_topic_prefix + name

    def unprefixed(self, topic: str) -> str:
        return topic.removeprefix(self.infra.kafka_topic_prefix)

    def mongo(self) -> AsyncMongoClient[Document]:
        return AsyncMongoClient(self.infra.mongodb_url.get_secret_value(), tz_aware=True)


def _names() -> list[str]:
    return RunnerSettings().allowed()


def _view(name: str) -> ServiceView:
    """A service's database and group, as the service reads them (defaults included)."""

    class Settings(ServiceSettings):
        model_config = SettingsConfigDict(env_prefix=f"RINNOVO_{name.upper()}_", extra="ignore")

    settings = Settings()
    return ServiceView(
        name, settings.database or f"rinnovo_{name}", settings.consumer_group or f"rinnovo-{name}"
    )


Handler = Callable[[argparse.Namespace, Deployment], Coroutine[Any, Any, int]]


def run(handler: Handler, args: argparse.Namespace) -> int:
    """Run an async command against the deployment the environment describes."""
    return asyncio.run(handler(args, Deployment.from_environment()))
