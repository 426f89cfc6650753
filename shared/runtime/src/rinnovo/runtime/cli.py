"""``rinnovo``: run one service, or every allowed service as its own process.

rinnovo services              list the allowed services
rinnovo run orders            run one service (what a deployment does)
rinnovo run all               run each allowed service as its own process (a dev box)
rinnovo contracts export      write JSON Schemas and AsyncAPI documents into the repo, and
                              publish each changed event as its next version if compatible
rinnovo contracts check       fail if they differ from the code, if a published version was
                              edited, or if two versions or a consumer's view disagree
rinnovo dlt list|show|replay  dead letters: read them, send them back once fixed
rinnovo outbox status         per service: events waiting to be published, the relay's lease
rinnovo consumers             consumer groups: members and lag per partition
"""

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import uvicorn
from pydantic import ValidationError

from rinnovo.runtime.http_server import QuietServer
from rinnovo.runtime.logging import configure_logging
from rinnovo.runtime.plugins import ServicePlugin, allowed_services
from rinnovo.runtime.safety import InsecureSetting
from rinnovo.runtime.settings import InfraSettings

EX_CONFIG = 78
"""The exit status of a service refused to start by its settings (sysexits' EX_CONFIG)."""


def run_one(name: str) -> int:
    plugins = allowed_services()
    if name not in plugins:
        print(f"unknown or not allowed service {name!r}; allowed: {', '.join(plugins)}")
        return 2
    try:
        built = plugins[name].build()
    except (InsecureSetting, ValidationError) as exc:
        reason = exc if isinstance(exc, InsecureSetting) else _one_line(exc)
        print(f"rinnovo {name}: refusing to start: {reason}", file=sys.stderr, flush=True)
        return EX_CONFIG
    settings = built.runtime.settings
    configure_logging(name, settings.log_level, json=settings.log_json)
    config = uvicorn.Config(
        built.app,
        host=built.host,
        port=built.port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    QuietServer(config).run()
    return 0


def _one_line(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}"
        for e in exc.errors(include_url=False, include_input=False)
    )


def run_all() -> int:
    """Each service in its own process; Ctrl-C or SIGTERM stops them all, then this.

    If one service dies, the others are stopped too: a dev box is either whole or down.
    Once every service answers ready, a table says where each one is.
    """
    plugins = allowed_services()
    children = {
        subprocess.Popen([sys.executable, "-m", "rinnovo.runtime.cli", "run", name]).pid: name
        for name in plugins
    }
    threading.Thread(
        target=announce, args=(plugins,), name="rinnovo-addresses", daemon=True
    ).start()

    def stop(*_: object) -> None:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    exit_code = 0
    while children:
        pid, status = os.wait()
        name = children.pop(pid, None)
        code = os.waitstatus_to_exitcode(status)
        if name is not None and code not in (0, -signal.SIGTERM):
            print(f"service {name} exited with {code}; stopping the others", flush=True)
            exit_code = exit_code or code
        stop()
    return exit_code


def addresses(plugins: Mapping[str, ServicePlugin]) -> list[tuple[str, str]]:
    """Each service's addresses, then the servers they share (the MongoDB URL without its
    password)."""
    rows = [row for name, plugin in plugins.items() for row in plugin.settings().addresses(name)]
    infra = InfraSettings()
    mongo = urlsplit(infra.mongodb_url.get_secret_value())
    if mongo.password:
        mongo = mongo._replace(netloc=mongo.netloc.replace(f":{mongo.password}@", ":***@"))
    return [*rows, ("Kafka", infra.kafka_bootstrap_servers), ("MongoDB", urlunsplit(mongo))]


def announce(plugins: Mapping[str, ServicePlugin], patience_seconds: float = 600.0) -> None:
    """Print the table of addresses once every service answers ready."""
    waiting = {name: plugin.settings().api_url() for name, plugin in plugins.items()}
    deadline = time.monotonic() + patience_seconds
    while waiting and time.monotonic() < deadline:
        for name, url in list(waiting.items()):
            ready = f"{url}/health/ready"
            with contextlib.suppress(OSError), urllib.request.urlopen(ready, timeout=2) as answer:
                if answer.status == 200:
                    del waiting[name]
        time.sleep(0.5)
    if waiting:
        return
    rows = addresses(plugins)
    width = max(len(label) for label, _ in rows)
    table = "\n".join(f"  {label:<{width}}  {address}" for label, address in rows)
    print(f"rinnovo is up:\n{table}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rinnovo", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("services", help="list the allowed services")
    run = commands.add_parser("run", help="run a service, or `all`")
    run.add_argument("service")
    contracts = commands.add_parser("contracts", help="published schemas")
    contracts.add_argument("action", choices=["export", "check"])
    contracts.add_argument("--root", type=Path, default=Path.cwd())
    from rinnovo.runtime.ops import consumers, dlt, outbox_status

    for group in (dlt, outbox_status, consumers):
        group.register(commands)
    args = parser.parse_args(argv)
    if hasattr(args, "handler"):  # an operator's command
        code: int = args.handler(args)
        return code

    if args.command == "services":
        for name, plugin in allowed_services().items():
            print(f"{name}\t{plugin.description}")
        return 0
    if args.command == "run":
        return run_all() if args.service == "all" else run_one(args.service)
    from rinnovo.runtime import schemas

    os.chdir(args.root)
    return schemas.export(args.root) if args.action == "export" else schemas.check(args.root)


if __name__ == "__main__":
    sys.exit(main())
