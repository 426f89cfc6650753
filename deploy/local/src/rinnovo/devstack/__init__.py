"""Local Kafka and MongoDB-wire (FerretDB) servers for development and tests.

The servers are downloaded/built on first use into ``~/.cache/rinnovo`` (or
``$RINNOVO_CACHE_DIR``) and reused afterwards. See :class:`LocalStack`.
"""

from rinnovo.devstack._paths import cache_dir, default_data_dir
from rinnovo.devstack._server import ManagedServer
from rinnovo.devstack.errors import DevStackError, InstallError, ServerStartError, ToolMissingError
from rinnovo.devstack.ferretdb import FerretDBServer, ferretdb_version, install_ferretdb
from rinnovo.devstack.kafka import KafkaServer, install_kafka, kafka_version
from rinnovo.devstack.stack import KAFKA_ENV, MONGODB_ENV, LocalStack, install_all

__all__ = [
    "KAFKA_ENV",
    "MONGODB_ENV",
    "DevStackError",
    "FerretDBServer",
    "InstallError",
    "KafkaServer",
    "LocalStack",
    "ManagedServer",
    "ServerStartError",
    "ToolMissingError",
    "cache_dir",
    "default_data_dir",
    "ferretdb_version",
    "install_all",
    "install_ferretdb",
    "install_kafka",
    "kafka_version",
]
