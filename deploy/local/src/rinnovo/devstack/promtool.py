"""promtool, Prometheus's own checker of rule files, built from its Go module on first use.

Pinned as a Go tool in ``deploy/observability/promtool/go.mod`` (with its ``go.sum``), built
into ``<cache>/promtool-<version>`` like FerretDB: ``tests/observability`` checks the alert
rules' syntax with it and runs their unit tests. The first build downloads Prometheus's
module graph (its service discoveries' SDKs included) and takes minutes; later ones none.

    python -m rinnovo.devstack.promtool      build it now and print its path
"""

from __future__ import annotations

from pathlib import Path

from rinnovo.devstack.go_tools import GoTool

MODULE = "github.com/prometheus/prometheus"
PROMTOOL = GoTool(
    binary="promtool",
    module=MODULE,
    package=f"{MODULE}/cmd/promtool",
    folder="observability/promtool",
)


def install_promtool() -> Path:
    """Build promtool with Go into the cache, once. Returns the binary's path."""
    return PROMTOOL.install()


if __name__ == "__main__":
    print(install_promtool())
