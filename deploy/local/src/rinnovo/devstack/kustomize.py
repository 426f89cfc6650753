"""kustomize, built from its Go module on first use, to render ``deploy/k8s`` in tests.

Pinned as a Go tool in ``deploy/k8s/tools/kustomize/go.mod`` (with its ``go.sum``), built
into ``<cache>/kustomize-<version>`` like FerretDB, so a machine with Go needs nothing else.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from pathlib import Path

from rinnovo.devstack import _process
from rinnovo.devstack._paths import cache_dir, fingerprint, recipes_dir
from rinnovo.devstack._server import cached_install
from rinnovo.devstack.errors import DevStackError

BINARY = "kustomize"
MODULE = "sigs.k8s.io/kustomize/kustomize/v5"


def _recipe() -> Path:
    # deploy/local -> deploy/k8s/tools/kustomize
    return recipes_dir().parent / "k8s" / "tools" / "kustomize"


@functools.cache
def kustomize_version() -> str:
    go_mod = _recipe() / "go.mod"
    found = re.search(rf"^\s*(?:require\s+)?{re.escape(MODULE)}\s+v(\S+)", go_mod.read_text(), re.M)
    if found is None:
        raise DevStackError(f"{MODULE} is not required in {go_mod}")
    return found.group(1)


def install_kustomize() -> Path:
    """Build kustomize with Go into the cache, once. Returns the binary's path."""
    recipe = _recipe()

    def build(target: Path) -> None:
        go = _process.find_tool("go", purpose="to build kustomize", env_var="RINNOVO_GO")
        env = dict(os.environ)
        env["CGO_ENABLED"] = "0"
        env["GOFLAGS"] = f"{env.get('GOFLAGS', '')} -mod=readonly -buildvcs=false".strip()
        _process.run_tool(
            [go, "build", "-trimpath", "-o", str(target / BINARY), MODULE],
            cwd=recipe,
            env=env,
            what=f"building kustomize {kustomize_version()} with Go",
        )

    home = cached_install(
        cache_dir() / f"kustomize-{kustomize_version()}",
        fingerprint([recipe / "go.mod", recipe / "go.sum"]),
        build,
        what=f"kustomize {kustomize_version()}",
    )
    return home / BINARY


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
