"""promtool, Prometheus's own checker of rule files, built from its Go module on first use.

Pinned as a Go tool in ``deploy/observability/promtool/go.mod`` (with its ``go.sum``), built
into ``<cache>/promtool-<version>`` like FerretDB: ``tests/observability`` checks the alert
rules' syntax with it and runs their unit tests. The first build downloads Prometheus's
module graph (its service discoveries' SDKs included) and takes minutes; later ones none.

    python -m rinnovo.devstack.promtool      build it now and print its path
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

from rinnovo.devstack import _process
from rinnovo.devstack._paths import cache_dir, fingerprint, recipes_dir
from rinnovo.devstack._server import cached_install
from rinnovo.devstack.errors import DevStackError

BINARY = "promtool"
MODULE = "github.com/prometheus/prometheus"
TOOL = f"{MODULE}/cmd/promtool"


def _recipe() -> Path:
    # deploy/local -> deploy/observability/promtool
    return recipes_dir().parent / "observability" / "promtool"


@functools.cache
def promtool_version() -> str:
    """The Prometheus module's version (``0.316.0`` is Prometheus 3.16.0)."""
    go_mod = _recipe() / "go.mod"
    found = re.search(rf"^\s*(?:require\s+)?{re.escape(MODULE)}\s+v(\S+)", go_mod.read_text(), re.M)
    if found is None:
        raise DevStackError(f"{MODULE} is not required in {go_mod}")
    return found.group(1)


def install_promtool() -> Path:
    """Build promtool with Go into the cache, once. Returns the binary's path."""
    recipe = _recipe()

    def build(target: Path) -> None:
        go = _process.find_tool("go", purpose="to build promtool", env_var="RINNOVO_GO")
        env = dict(os.environ)
        env["CGO_ENABLED"] = "0"
        env["GOFLAGS"] = f"{env.get('GOFLAGS', '')} -mod=readonly -buildvcs=false".strip()
        _process.run_tool(
            [go, "build", "-trimpath", "-o", str(target / BINARY), TOOL],
            cwd=recipe,
            env=env,
            what=f"building promtool (Prometheus module {promtool_version()}) with Go",
            timeout=3600.0,  # the first time, the module graph is downloaded too
        )

    home = cached_install(
        cache_dir() / f"promtool-{promtool_version()}",
        fingerprint([recipe / "go.mod", recipe / "go.sum"]),
        build,
        what=f"promtool {promtool_version()}",
    )
    return home / BINARY


if __name__ == "__main__":
    print(install_promtool())
