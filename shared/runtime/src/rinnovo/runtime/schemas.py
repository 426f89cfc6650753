"""Export the published contracts and guard them.

- ``shared/contracts/schemas/<topic>/<type>.json``: JSON Schema of every event;
- ``docs/asyncapi/<service>.json``: the AsyncAPI 3 document of every service.

``check`` fails when a committed file differs from what the code exports now, and when a
committed event schema was changed in a backward-incompatible way (that needs a new ``.vN``
topic and type instead).
"""

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from faststream.specification import AsyncAPI

from rinnovo.contracts import TOPICS, Event

SCHEMAS_DIR = Path("shared/contracts/schemas")
ASYNCAPI_DIR = Path("docs/asyncapi")

# Keywords that only document: changing them breaks nobody.
_DOC_KEYWORDS = {"title", "description", "examples", "default", "$comment"}


def event_schema(event: type[Event]) -> dict[str, Any]:
    return event.model_json_schema(mode="validation")


def contract_files() -> Iterator[tuple[Path, dict[str, Any]]]:
    for spec in TOPICS.values():
        for event in spec.events:
            yield SCHEMAS_DIR / spec.name / f"{event.event_type()}.json", event_schema(event)


def asyncapi_files() -> Iterator[tuple[Path, dict[str, Any]]]:
    from rinnovo.runtime.plugins import allowed_services

    for name, plugin in allowed_services().items():
        built = plugin.build()
        document = AsyncAPI(
            built.runtime.broker,
            title=f"rinnovo {name}",
            version="1",
            description=plugin.description,
            schema_version="3.0.0",
        ).to_specification()
        data = document.to_jsonable()
        # The broker address belongs to a deployment, not to the contract.
        data["servers"] = {
            "kafka": {
                "host": "{bootstrap}",
                "protocol": "kafka",
                "description": "The deployment's Kafka cluster (KAFKA_BOOTSTRAP_SERVERS).",
                "variables": {"bootstrap": {"default": "localhost:9092"}},
            }
        }
        for channel in data.get("channels", {}).values():
            channel["servers"] = [{"$ref": "#/servers/kafka"}]
        yield ASYNCAPI_DIR / f"{name}.json", data


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _write_all(root: Path) -> list[Path]:
    written = []
    for path, data in [*contract_files(), *asyncapi_files()]:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_dump(data))
        written.append(path)
    return written


def export(root: Path) -> int:
    for path in _write_all(root):
        print(path)
    return 0


def check(root: Path) -> int:
    problems = snapshot_differences(root) + compatibility_problems(root)
    for problem in problems:
        print(problem)
    return 1 if problems else 0


def snapshot_differences(root: Path) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        exported = _write_all(fresh)
        problems = []
        for path in exported:
            committed = root / path
            if not committed.exists():
                problems.append(f"{path}: not committed; run `make contracts`")
            elif committed.read_text() != (fresh / path).read_text():
                problems.append(f"{path}: differs from the code; run `make contracts`")
        for folder in (SCHEMAS_DIR, ASYNCAPI_DIR):
            for committed in (root / folder).rglob("*.json"):
                if committed.relative_to(root) not in exported:
                    problems.append(f"{committed.relative_to(root)}: no longer exported")
        return problems


def compatibility_problems(root: Path) -> list[str]:
    """Each committed event schema against the current model of the same type."""
    current = {path: schema for path, schema in contract_files()}
    problems = []
    for committed in sorted((root / SCHEMAS_DIR).rglob("*.json")):
        path = committed.relative_to(root)
        old = json.loads(committed.read_text())
        new = current.get(path)
        if new is None:
            problems.append(f"{path}: a published event disappeared (publish a new .vN instead)")
            continue
        problems += [f"{path}: {p}" for p in breaking_changes(old, new)]
    return problems


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Changes after which an old consumer cannot read new events, or a new one old events.

    Consumers ignore unknown fields, so adding an optional property is compatible; removing
    or newly requiring one, or changing a type, an enum or a constraint, is not.
    """
    return _compare(_resolve(old, old), _resolve(new, new), "$")


def _resolve(node: Any, root: dict[str, Any]) -> Any:
    """Inline local ``$ref``s so two schemas compare by structure, not by definition names."""
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].removeprefix("#/$defs/")
            return _resolve(root["$defs"][name], root)
        return {k: _resolve(v, root) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_resolve(v, root) for v in node]
    return node


def _compare(old: Any, new: Any, where: str) -> list[str]:
    if not isinstance(old, dict) or not isinstance(new, dict):
        return [] if old == new else [f"{where}: changed from {old!r} to {new!r}"]
    problems: list[str] = []
    old_props: dict[str, Any] = old.get("properties", {})
    new_props: dict[str, Any] = new.get("properties", {})
    old_required, new_required = set(old.get("required", ())), set(new.get("required", ()))
    for name in sorted(old_required - set(new_props)):
        problems.append(f"{where}.{name}: required property removed")
    for name in sorted(new_required - old_required):
        problems.append(f"{where}.{name}: property became required")
    for name in sorted(set(old_props) & set(new_props)):
        problems += _compare(old_props[name], new_props[name], f"{where}.{name}")
    for key in ("items", "additionalProperties"):
        if key in old or key in new:
            problems += _compare(old.get(key), new.get(key), f"{where}[{key}]")
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        old_list, new_list = old.get(key, []), new.get(key, [])
        if len(old_list) != len(new_list):
            problems.append(f"{where}: {key} has {len(new_list)} branches, was {len(old_list)}")
            continue
        for i, (o, n) in enumerate(zip(old_list, new_list, strict=True)):
            problems += _compare(o, n, f"{where}.{key}[{i}]")
    structural = {"properties", "required", "items", "additionalProperties"}
    structural |= {"anyOf", "oneOf", "allOf", "prefixItems", "discriminator"} | _DOC_KEYWORDS
    for key in sorted((set(old) | set(new)) - structural):
        if old.get(key) != new.get(key):
            problems.append(f"{where}: {key} changed from {old.get(key)!r} to {new.get(key)!r}")
    return problems
