"""The image's install steps, replayed here without Docker: the build context the
``.dockerignore`` leaves, each ``COPY`` of the build stage, each ``uv sync`` exactly as the
Dockerfile runs it. The environment they make must run every service, from the lock alone."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.needs import services

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "container" / "Dockerfile"
IGNORE = ROOT / "deploy" / "container" / "Dockerfile.dockerignore"

pytestmark = pytest.mark.timeout(600)


def pattern(rule: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regular expression (``**``, ``*``, ``?``)."""
    parts = re.split(r"(\*\*/|\*|\?)", rule.strip("/"))
    wildcards = {"**/": "(?:.*/)?", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(wildcards.get(part, re.escape(part)) for part in parts))


def in_context(path: str, rules: list[str]) -> bool:
    """Docker's rule: the last pattern that matches the path, or one of its parent
    directories, decides whether it is sent."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    keep = True
    for rule in rules:
        if any(pattern(rule.removeprefix("!")).fullmatch(prefix) for prefix in prefixes):
            keep = rule.startswith("!")
    return keep


def build_context(target: Path) -> None:
    rules = [
        line.strip()
        for line in IGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for path in tracked:
        if in_context(path, rules):
            (target / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / path, target / path)


def build_stage() -> list[str]:
    """The build stage's COPY and RUN instructions, continuation lines joined."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    stage = text.split(" AS build")[1].split("\nFROM ")[0]
    return [line.strip() for line in stage.splitlines() if line.startswith(("COPY ", "RUN "))]


def test_the_context_holds_the_sources_and_leaves_out_tests_and_the_dev_servers() -> None:
    rules = [r.strip() for r in IGNORE.read_text().splitlines() if r.strip() and r[0] != "#"]
    assert in_context("uv.lock", rules)
    assert in_context("services/orders/src/rinnovo/orders/bootstrap.py", rules)
    assert in_context("deploy/local/pyproject.toml", rules)
    assert not in_context("services/orders/tests/test_cards.py", rules)
    assert not in_context("deploy/local/src/rinnovo/devstack/kafka.py", rules)
    assert not in_context("tests/e2e/batch.py", rules)
    assert not in_context("README.md", rules)


def test_the_build_stage_installs_every_service_from_the_lock(tmp_path: Path) -> None:
    context, work, environment = tmp_path / "context", tmp_path / "src", tmp_path / "env"
    build_context(context)
    work.mkdir()
    uv = os.environ.get("UV") or shutil.which("uv")  # `uv run` names itself in UV
    assert uv, "uv is needed: run the tests through `uv run` (make test)"
    env = {
        **os.environ,
        "UV_PROJECT_ENVIRONMENT": str(environment),
        "UV_LINK_MODE": "copy",
        "UV_PYTHON": sys.executable,
    }
    env.pop("VIRTUAL_ENV", None)
    for instruction in build_stage():
        if instruction.startswith("COPY --from"):
            continue  # the uv binary: ours is used
        if instruction.startswith("COPY "):
            *sources, destination = instruction.split()[1:]
            for source in sources:
                origin = context / source.rstrip("/")
                target = work / destination
                if origin.is_dir():
                    shutil.copytree(
                        origin,
                        target / origin.name if destination in (".", "./") else target,
                        dirs_exist_ok=True,
                    )
                else:
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(origin, target / origin.name)
            continue
        [command] = re.findall(r"(uv sync .*)$", instruction)
        done = subprocess.run(
            [uv, *command.split()[1:]], cwd=work, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    listed = subprocess.run(
        [str(environment / "bin" / "rinnovo"), "services"],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert sorted(line.split("\t")[0] for line in listed.splitlines()) == services()
    site = next((environment / "lib").glob("python3.*/site-packages"))
    assert not (site / "rinnovo" / "devstack").exists(), "the dev servers are in the image"
    assert (site / "rinnovo" / "catalog" / "seed" / "catalog.yaml").is_file()
    assert not list(site.glob("_rinnovo*.pth")), "installed editable, pointing at sources"
