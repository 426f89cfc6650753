"""A sampling profile of a running service process (py-spy), reduced to its top frames.

py-spy attaches to the process from outside (``ptrace``) and samples its Python stacks 200
times a second, keeping only the samples of the thread holding the GIL (``--gil``): the
Python code at work, not the waits in ``select`` nor the system calls, whose cost the
``/proc`` CPU account holds. Each function's *self* share is the samples in which it was the
innermost frame; its *total* share, those in which it was anywhere on the stack; each
package's share sums the self samples of its functions.
"""

import contextlib
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from rinnovo_bench.common import Json

RATE = 200
FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*)\)$")


class Profiler:
    """``py-spy record`` of one process until ``stop``; ``None`` result if py-spy is missing
    or may not attach."""

    def __init__(self, pid: int, out: Path) -> None:
        self.out = out
        self._proc: subprocess.Popen[bytes] | None = None
        self.error = ""
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        if not Path(spy).exists():
            self.error = "py-spy is not installed"
            return
        command = [spy, "record", "--pid", str(pid), "--rate", str(RATE), "--format", "raw"]
        command += ["--gil", "--nolineno", "--nonblocking", "--output", str(out)]
        self._proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def stop(self) -> Json | None:
        if self._proc is None:
            return None
        self._proc.send_signal(signal.SIGINT)
        try:
            output, _ = self._proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            output, _ = self._proc.communicate()
        if not self.out.exists():
            self.error = output.decode(errors="replace")[-500:]
            return None
        with contextlib.suppress(OSError):
            return top_frames(self.out.read_text())
        return None


def package(file: str) -> str:
    """Where a frame's code lives: a distribution or stdlib module (py-spy shows paths from
    their ``sys.path`` entry), or ``rinnovo.<part>`` for ours."""
    if "site-packages/" in file:
        file = file.split("site-packages/", 1)[1]
    elif "/lib/python3" in file:
        file = file.split("/lib/python3", 1)[1].partition("/")[2]
    parts = file.strip("/").split("/")
    if parts[0] == "rinnovo" and len(parts) > 2:
        return f"rinnovo.{parts[1]}"
    return parts[0].removesuffix(".py")


def top_frames(raw: str, count: int = 20) -> Json:
    """Collapsed stacks (``frame;frame;... samples`` per line) → the top functions by self
    share with their total share, and the packages by self share."""
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    samples = 0
    for line in raw.splitlines():
        stack, _, times = line.rpartition(" ")
        if not stack or not times.isdigit():
            continue
        n = int(times)
        frames = [f for f in stack.split(";") if FRAME.match(f)]
        if not frames:
            continue
        samples += n
        leaf = FRAME.match(frames[-1])
        assert leaf is not None
        own[frames[-1]] += n
        packages[package(leaf["file"])] += n
        for frame in set(frames):
            anywhere[frame] += n

    def share(n: int) -> float:
        return round(100 * n / samples, 1) if samples else 0.0

    return {
        "samples": samples,
        "rate_hz": RATE,
        "functions": [
            {"frame": frame, "self_percent": share(n), "total_percent": share(anywhere[frame])}
            for frame, n in own.most_common(count)
        ],
        "cumulative": [
            {"frame": frame, "total_percent": share(n)} for frame, n in anywhere.most_common(count)
        ],
        "packages": [{"package": p, "self_percent": share(n)} for p, n in packages.most_common(12)],
    }
