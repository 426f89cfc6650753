"""kustomize, built from its Go module on first use, to render ``deploy/k8s`` in tests.

Pinned as a Go tool in ``deploy/k8s/tools/kustomize/go.mod`` (with its ``go.sum``), built
into ``<cache>/kustomize-<version>`` like FerretDB, so a machine with Go needs nothing else.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from rinnovo.devstack.errors import DevStackError
from rinnovo.devstack.go_tools import GoTool

KUSTOMIZE = GoTool(
    binary="kustomize",
    module="sigs.k8s.io/kustomize/kustomize/v5",
    package="sigs.k8s.io/kustomize/kustomize/v5",
    folder="k8s/tools/kustomize",
)


def install_kustomize() -> Path:
    """Build kustomize with Go into the cache, once. Returns the binary's path."""
    return KUSTOMIZE.install()


def kustomize_build(directory: Path) -> str:
    """``kustomize build DIRECTORY``: the rendered YAML documents (warnings stay apart)."""
    done = subprocess.run(
        [str(install_kustomize()), "build", str(directory)],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise DevStackError(f"kustomize build {directory} failed:\n{done.stderr}")
    return done.stdout
