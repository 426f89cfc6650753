"""The store of published event schemas: append-only, one file per version, never edited.

``shared/contracts/published/<topic>/<type>/<n>.json`` is version ``n`` of an event type's
JSON Schema; ``SHA256SUMS`` beside them lists each file's hash, one line per version in the
order they were published. Immutability is checked twice: each file against its line of the
manifest (works on any copy of the tree), and the git history the clone has (no commit, and
no uncommitted change, edits or removes a version file or a manifest line).
"""

import hashlib
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PUBLISHED_DIR = Path("shared/contracts/published")
MANIFEST = PUBLISHED_DIR / "SHA256SUMS"


@dataclass(frozen=True)
class Version:
    topic: str
    event_type: str
    number: int
    schema: dict[str, Any]

    @property
    def path(self) -> Path:
        return version_path(self.topic, self.event_type, self.number)

    @property
    def label(self) -> str:
        return f"{self.topic} {self.event_type} version {self.number}"


def version_path(topic: str, event_type: str, number: int) -> Path:
    return PUBLISHED_DIR / topic / event_type / f"{number}.json"


def dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def read_versions(root: Path) -> dict[tuple[str, str], list[Version]]:
    """Every published version by (topic, type), oldest first."""
    found: dict[tuple[str, str], list[Version]] = {}
    for file in sorted((root / PUBLISHED_DIR).glob("*/*/*.json")):
        if not file.stem.isdigit():
            continue
        topic, event_type = file.parent.parent.name, file.parent.name
        schema = json.loads(file.read_text())
        found.setdefault((topic, event_type), []).append(
            Version(topic, event_type, int(file.stem), schema)
        )
    for versions in found.values():
        versions.sort(key=lambda v: v.number)
    return found


def publish(root: Path, version: Version) -> Path:
    """Write a new version and its manifest line; an existing version is never overwritten."""
    target = root / version.path
    text = dump(version.schema)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("x") as file:  # fails if it exists
        file.write(text)
    with (root / MANIFEST).open("a") as manifest:
        manifest.write(f"{_sha256(text)}  {version.path.relative_to(PUBLISHED_DIR)}\n")
    return version.path


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def integrity_problems(root: Path) -> list[str]:
    """Edited, removed, unlisted or renumbered versions: the manifest, then the history."""
    return _manifest_problems(root) + _numbering_problems(root) + _history_problems(root)


def _manifest_problems(root: Path) -> list[str]:
    manifest = root / MANIFEST
    lines = manifest.read_text().splitlines() if manifest.exists() else []
    listed: dict[Path, str] = {}
    problems = []
    for line in lines:
        digest, _, name = line.partition("  ")
        path = PUBLISHED_DIR / name
        if path in listed:
            problems.append(f"{MANIFEST}: {name} is listed twice")
        listed[path] = digest
    files = {f.relative_to(root) for f in (root / PUBLISHED_DIR).glob("*/*/*.json")}
    for path in sorted(files - set(listed)):
        problems.append(f"{path}: not in {MANIFEST} (publish with `make contracts`)")
    for path, digest in listed.items():
        if path not in files:
            problems.append(f"{path}: published version removed; published versions stay")
        elif _sha256((root / path).read_text()) != digest:
            problems.append(f"{path}: published version edited; published versions never change")
    return problems


def _numbering_problems(root: Path) -> list[str]:
    problems = []
    for versions in read_versions(root).values():
        numbers = [v.number for v in versions]
        if numbers != list(range(1, len(numbers) + 1)):
            problems.append(f"{versions[0].label}: versions {numbers} are not 1..{len(numbers)}")
    return problems


def _history_problems(root: Path) -> list[str]:
    """What the clone's git history says: commits and uncommitted changes that edited or
    removed a published file or a manifest line. Nothing to say outside a git work tree (the
    manifest still speaks there); a clone's history starts where the clone does."""
    try:
        _git(root, "rev-parse", "--verify", "--quiet", "HEAD")
    except HistoryUnreadable:
        return []
    try:
        return _history(root)
    except HistoryUnreadable as exc:
        return [f"{PUBLISHED_DIR}: the git history cannot be read ({exc})"]


class HistoryUnreadable(RuntimeError):
    pass


def _history(root: Path) -> list[str]:
    folder, manifest = str(PUBLISHED_DIR), str(MANIFEST)
    files = (
        _git(root, "log", *_PER_COMMIT, "--name-status", "--no-renames", "--", folder),
        _git(root, "diff", "HEAD", "--name-status", "--no-renames", "--", folder),
    )
    problems = []
    for output in files:
        for commit, line in _by_commit(output):
            status, _, name = line.partition("\t")
            if name and name != manifest and status[:1] != "A":
                did = "removed" if status[:1] == "D" else "edited"
                problems.append(f"{name}: published version {did} in {commit}")
    lines = (
        _git(root, "log", *_PER_COMMIT, "-p", "--", manifest),
        _git(root, "diff", "HEAD", "--", manifest),
    )
    for output in lines:
        for commit, line in _by_commit(output):
            if line.startswith("-") and not line.startswith("---"):
                problems.append(f"{manifest}: line {line[1:]!r} removed in {commit}")
    return problems


# One entry per commit, merges compared with their first parent.
_PER_COMMIT = ("--format=commit %H", "--diff-merges=first-parent")


def _by_commit(output: str) -> Iterator[tuple[str, str]]:
    """The lines of a ``git log`` (or, without commit lines, ``git diff``) output, each with
    the commit it belongs to."""
    commit = "uncommitted changes"
    for line in output.splitlines():
        if line.startswith("commit "):
            commit = f"commit {line.split()[1][:12]}"
        else:
            yield commit, line


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HistoryUnreadable(str(exc)) from exc
    if done.returncode != 0:
        raise HistoryUnreadable(f"git {args[0]}: {done.stderr.strip() or done.returncode}")
    return done.stdout
