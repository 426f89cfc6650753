"""The logs of a failing request and of a failing webhook hold no secret, token or personal
data: tracebacks carry no frame locals, and every line is redacted."""

import json
import subprocess
import sys
from pathlib import Path

from tests.security.log_leaks import EMAIL, NAME, SECRET

SCRIPT = Path(__file__).with_name("log_leaks.py")


def test_a_failing_request_and_a_failing_webhook_log_no_secret() -> None:
    run = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=180, cwd=Path.cwd()
    )
    assert run.returncode == 0, run.stderr
    token = run.stdout.strip()
    lines = [json.loads(line) for line in run.stderr.splitlines()]
    failures = {line["event"]: line for line in lines if "exception" in line}
    # Both failures are logged, with their tracebacks: the search below is not vacuous.
    assert set(failures) == {"unhandled error", "channel failed unexpectedly"}, lines
    assert "the store is gone" in json.dumps(failures["unhandled error"])
    assert "connection broke" in json.dumps(failures["channel failed unexpectedly"])
    for needle in (SECRET, token, token[:24], EMAIL, NAME):
        assert needle not in run.stderr, f"{needle[:12]}... is in the log"
