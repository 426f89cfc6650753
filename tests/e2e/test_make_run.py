"""`make run` as a newcomer runs it: the local servers, then every service as a process.

Checks that each service answers its health endpoints, that start-up ends with a table of
every address, that a clean start prints no warning or error and only JSON lines from the
services (libraries' included), that mail goes to the local catcher's folder, and that
Ctrl-C stops everything (services, Kafka, FerretDB) without leaving a process behind.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from rinnovo.runtime.plugins import RunnerSettings

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def processes_with(marker: str) -> list[int]:
    """Processes whose environment carries the marker: everything the run started."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in environ:
            found.append(int(entry.name))
    return found


def test_run_starts_every_service_and_ctrl_c_leaves_nothing(tmp_path: Path) -> None:
    services = RunnerSettings().allowed()
    ports = {name: free_port() for name in services}
    marker = f"RINNOVO_RUN_MARKER={uuid.uuid4().hex}"
    # Development mode comes from `make run` itself, not from the test's environment.
    unset = ("KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URL", "RINNOVO_DEV_MODE")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env |= {f"RINNOVO_{name.upper()}_HTTP_PORT": str(port) for name, port in ports.items()}
    env |= {  # the portal calls the others where they are (8002, ... by default)
        f"RINNOVO_PORTAL_{name.upper()}_URL": f"http://127.0.0.1:{ports[name]}"
        for name in ("orders", "payments", "notifier")
    }
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_STARTTLS"):
        env.pop(f"RINNOVO_NOTIFIER_{name}", None)
    output = tmp_path / "make-run.log"
    env[marker.split("=")[0]] = marker.split("=")[1]
    bin_dir = Path(sys.executable).parent
    log = output.open("wb")
    run = subprocess.Popen(
        [
            str(bin_dir / "rinnovo-devstack"),
            "up",
            "--data-dir",
            str(tmp_path / "data"),
            "--",
            str(bin_dir / "rinnovo"),
            "run",
            "all",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # a terminal of its own, as `make run` has
    )
    try:
        deadline = time.monotonic() + 240
        ready: set[str] = set()
        while ready != set(services) and time.monotonic() < deadline:
            assert run.poll() is None, "make run exited early"
            for name, port in ports.items():
                try:
                    answer = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2)
                except httpx.HTTPError:
                    continue
                if answer.status_code == 200:
                    ready.add(name)
            time.sleep(0.5)
        assert ready == set(services)
        for port in ports.values():
            assert httpx.get(f"http://127.0.0.1:{port}/health/live").json() == {"status": "ok"}
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
            assert "rinnovo_outbox_backlog" in metrics
        assert len(processes_with(marker)) >= len(services) + 3  # + devstack, Kafka, FerretDB
        table = wait_for_table(output, deadline)
        variables = dict(
            line.split("=", 1) for line in output.read_text().splitlines() if "=" in line[:40]
        )
        assert table["Kafka"] == variables["KAFKA_BOOTSTRAP_SERVERS"]
        assert table["MongoDB"] == variables["MONGODB_URL"]
        assert table["SMTP target of the e-mails"] == (
            f"127.0.0.1:{variables['RINNOVO_NOTIFIER_SMTP_PORT']}"
        )
        for name, port in ports.items():
            url = f"http://127.0.0.1:{port}"
            assert url in table.values(), f"{name} is not in the table"
            if name != "portal":
                assert table[f"{name} API docs"] == f"{url}/docs"
                assert table[f"{name} metrics"] == f"{url}/metrics"
        # The demo data's deactivated service is told by e-mail: caught as a file.
        mail = tmp_path / "data" / "mail"
        while not list(mail.glob("*.eml")) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert list(mail.glob("*.eml")), "no e-mail reached the mail catcher"
        assert noise(output) == []
    finally:
        os.killpg(run.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
        try:
            run.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            raise
    deadline = time.monotonic() + 15
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_with(marker) == []
    log.close()


def wait_for_table(output: Path, deadline: float) -> dict[str, str]:
    """The addresses `make run` prints once every service is ready, by label."""
    while "rinnovo is up:" not in output.read_text() and time.monotonic() < deadline:
        time.sleep(0.5)
    lines = output.read_text().split("rinnovo is up:\n", 1)[1].splitlines()
    rows = [line.strip().split("  ", 1) for line in lines if line.startswith("  ")]
    return {label.strip(): address.strip() for label, address in rows}


def noise(output: Path) -> list[str]:
    """Lines of a clean start that should not be there: a warning or an error, or a line of
    a service (or of a library) that is not one of our JSON lines."""
    found = []
    for line in output.read_text().splitlines():
        if line.startswith(("devstack: ", "rinnovo is up:", "  ")) or "=" in line[:40]:
            continue  # the launcher's own lines, the variables and the table
        try:
            record = json.loads(line)
        except ValueError:
            found.append(line)
            continue
        if record.get("level") in ("warning", "error", "critical"):
            found.append(line)
    return found
