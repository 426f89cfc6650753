"""The services as separate processes on the bench's servers, and their memory."""

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from rinnovo.devstack.services import ServiceProcesses
from rinnovo_bench.common import Options


def service_env(options: Options, prefix: str, databases: Mapping[str, str]) -> dict[str, str]:
    """The bench's environment for the services, without OpenTelemetry's variables: their
    tracing is on only where a benchmark turns it on."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OTEL_")},
        "KAFKA_BOOTSTRAP_SERVERS": options.kafka,
        "MONGODB_URL": options.mongodb,
        "KAFKA_TOPIC_PREFIX": prefix,
    }
    for name, database in databases.items():
        env[f"RINNOVO_{name.upper()}_DATABASE"] = database
        env[f"RINNOVO_{name.upper()}_LOG_LEVEL"] = "WARNING"
    return env


def start(
    options: Options, log_dir: Path, names: Iterable[str], env: Mapping[str, str]
) -> ServiceProcesses:
    processes = ServiceProcesses(env, log_dir, names)
    processes.start_all()
    try:
        processes.wait_ready(timeout=180)
    except BaseException:
        processes.stop_all()
        raise
    return processes


def rss_mib(pid: int) -> float:
    """Resident set size of a process, from /proc (the whole process, shared pages too)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise LookupError(f"no VmRSS for {pid}")
