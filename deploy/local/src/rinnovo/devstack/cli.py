"""``rinnovo-devstack``: run the local Kafka + MongoDB-wire stack for development.

    rinnovo-devstack up [--kafka-port N] [--mongo-port N] [--data-dir DIR] [--env-file FILE]
                        [--registry] [--kafka-brokers 3] [-- COMMAND...]
    rinnovo-devstack install

``up`` prints ``KAFKA_BOOTSTRAP_SERVERS=...`` and ``MONGODB_URL=...`` once both answer, then
runs until Ctrl-C or SIGTERM and stops the servers cleanly. Given a command, it runs it with
those variables set and stops the servers when it ends (``make run`` does this). The command
runs in development mode (``RINNOVO_DEV_MODE=true``, unless the environment says otherwise):
this is a development stack.

``--kafka-sasl`` starts the broker with SASL/SCRAM-SHA-512 only, a user ``rinnovo`` with a
random password, and adds the ``KAFKA_SECURITY_PROTOCOL``, ``KAFKA_SASL_*`` variables.

``--registry`` also starts a schema registry and prints ``SCHEMA_REGISTRY_URL=...``.
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from rinnovo.devstack._paths import cache_dir, default_data_dir
from rinnovo.devstack.cluster import ClusterShape
from rinnovo.devstack.errors import DevStackError
from rinnovo.devstack.ferretdb import ferretdb_version
from rinnovo.devstack.kafka import kafka_version
from rinnovo.devstack.registry import registry_version
from rinnovo.devstack.stack import LocalStack, install_all

log = logging.getLogger("rinnovo.devstack")

DEV_MODE_ENV = "RINNOVO_DEV_MODE"
SASL_USER = "rinnovo"


class _Terminated(Exception):
    pass


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise _Terminated(signal.Signals(signum).name)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rinnovo-devstack",
        description="Local Kafka + MongoDB-wire (FerretDB) servers for development and tests.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="start the stack and run until Ctrl-C")
    up.add_argument("--kafka-port", type=int, default=None, help="Kafka port (default: free)")
    up.add_argument("--mongo-port", type=int, default=None, help="MongoDB port (default: free)")
    up.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"where data is kept between runs (default: {default_data_dir()})",
    )
    up.add_argument("--reset", action="store_true", help="delete the data dir first")
    up.add_argument(
        "--kafka-brokers",
        type=int,
        default=1,
        help="3 or more: a Kafka cluster (6 partitions, replication 3, min.insync.replicas 2)",
    )
    up.add_argument(
        "--env-file", type=Path, default=None, help="also write the variables to this file"
    )
    up.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for readiness")
    up.add_argument(
        "--kafka-sasl", action="store_true", help="clients must log in (SASL SCRAM-SHA-512)"
    )
    up.add_argument(
        "--registry", action="store_true", help="also a schema registry (Apicurio Registry)"
    )
    up.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        help="after `--`: a command to run with the stack's variables; the stack stops with it",
    )

    commands.add_parser(
        "install", help="download/build the servers and the registry into the cache and exit"
    )
    commands.add_parser("info", help="print versions and cache location")
    return parser


def _up(args: argparse.Namespace) -> int:
    data_dir: Path = (args.data_dir or default_data_dir()).absolute()
    if args.reset and data_dir.exists():
        with (data_dir / ".devstack.lock").open("a+b") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise DevStackError(f"{data_dir} is in use by a running dev stack") from None
            shutil.rmtree(data_dir)
    if args.kafka_sasl and (data_dir / "kafka" / "kraft" / "meta.properties").exists():
        # The users are written when the storage is formatted, with passwords made now.
        raise DevStackError("--kafka-sasl needs fresh data: add --reset, or another --data-dir")
    stack = LocalStack(
        data_dir,
        kafka_port=args.kafka_port,
        mongo_port=args.mongo_port,
        ready_timeout=args.timeout,
        kafka_sasl_users={SASL_USER: secrets.token_urlsafe(24)} if args.kafka_sasl else None,
        registry=args.registry,
        kafka_cluster=ClusterShape(brokers=args.kafka_brokers) if args.kafka_brokers > 1 else None,
    )
    started = time.monotonic()
    with stack:
        variables = {**stack.env(), **stack.kafka_client_env(SASL_USER)}
        lines = [f"{key}={value}" for key, value in variables.items()]
        if args.env_file is not None:
            args.env_file.write_text("".join(f"{line}\n" for line in lines))
        for line in lines:
            print(line, flush=True)
        log.info(
            "dev stack ready in %.1fs (data in %s); Ctrl-C to stop",
            time.monotonic() - started,
            data_dir,
        )
        nodes = list(stack.cluster.nodes.values()) if stack.cluster is not None else []
        servers = [s for s in (stack.kafka, stack.ferretdb, stack.registry, *nodes) if s]
        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        env = {DEV_MODE_ENV: "true", **os.environ, **variables}
        child = subprocess.Popen(command, env=env) if command else None
        try:
            while child is None or child.poll() is None:
                for server in servers:
                    if not server.is_running:
                        log.error("%s exited unexpectedly; see %s", server.name, server.log_file)
                        return 1
                time.sleep(0.5)
            return child.returncode
        except (KeyboardInterrupt, _Terminated):
            log.info("stopping the dev stack")
        finally:
            if child is not None and child.poll() is None:
                child.send_signal(signal.SIGTERM)
                try:
                    child.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
            if args.env_file is not None:
                args.env_file.unlink(missing_ok=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="devstack: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:
        logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    signal.signal(signal.SIGTERM, _raise_terminated)
    signal.signal(signal.SIGHUP, _raise_terminated)
    try:
        if args.command == "install":
            started = time.monotonic()
            install_all(registry=True)
            log.info(
                "Kafka, FerretDB and the schema registry installed in %s (%.1fs)",
                cache_dir(),
                time.monotonic() - started,
            )
            return 0
        if args.command == "info":
            print(f"kafka {kafka_version()}")
            print(f"ferretdb {ferretdb_version()}")
            print(f"apicurio-registry {registry_version()}")
            print(f"cache {cache_dir()}")
            print(f"data {default_data_dir()}")
            return 0
        return _up(args)
    except (KeyboardInterrupt, _Terminated):
        return 130
    except DevStackError as exc:
        log.error("%s", exc)
        return 1


if __name__ == "__main__":
    sys.exit(main())
