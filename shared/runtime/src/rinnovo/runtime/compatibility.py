"""Whether events written under one JSON Schema can be read by a reader holding another.

``unreadable(writer, reader)`` lists why some event valid under ``writer`` could be refused
by a consumer validating with ``reader``. Consumers ignore properties they do not know, so a
property only the writer has is fine. Everything else is compared as a set of accepted
values: the writer's set must fit in the reader's. What is not understood counts as a
difference, so an unfamiliar schema errs towards "breaking", never towards "fine".

Two versions of an event are compatible when each reads the other: a consumer of the old
version reads new events (``Direction.FORWARD``), and a consumer of the new version reads the
old events still on the topic (``Direction.BACKWARD``). A consumer's declared view of an event
is a reader too (``Direction.VIEW``).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

Schema = dict[str, Any]

# Keywords that only document: changing them breaks nobody.
DOC_KEYWORDS = frozenset(
    {"title", "description", "examples", "default", "$comment", "deprecated", "discriminator"}
)
_UNIONS = ("anyOf", "oneOf")
_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_SAME_OR_ABSENT = ("pattern", "format")
_UNDERSTOOD = frozenset(
    {"type", "enum", "const", "properties", "required", "additionalProperties", "items"}
    | {"prefixItems", "multipleOf", "uniqueItems", *_UNIONS, *_LOWER_BOUNDS, *_UPPER_BOUNDS}
    | {*_SAME_OR_ABSENT}
)


class Direction(Enum):
    FORWARD = "forward"  # the reader is the older version
    BACKWARD = "backward"  # the reader is the newer version
    VIEW = "view"  # the reader is a consumer's view


# The rule each kind of finding breaks, in the words of each direction.
RULES: dict[tuple[Direction, str], str] = {
    (Direction.FORWARD, "missing"): "required field removed",
    (Direction.FORWARD, "optional"): "required field made optional",
    (Direction.FORWARD, "type"): "type changed or widened",
    (Direction.FORWARD, "null"): "field made nullable",
    (Direction.FORWARD, "values"): "values widened (enum value added)",
    (Direction.FORWARD, "constraint"): "constraint widened",
    (Direction.FORWARD, "unknown"): "keyword changed",
    (Direction.BACKWARD, "missing"): "required field added",
    (Direction.BACKWARD, "optional"): "optional field made required",
    (Direction.BACKWARD, "type"): "type changed or narrowed",
    (Direction.BACKWARD, "null"): "null no longer accepted",
    (Direction.BACKWARD, "values"): "values narrowed (enum value removed)",
    (Direction.BACKWARD, "constraint"): "constraint narrowed",
    (Direction.BACKWARD, "unknown"): "keyword changed",
    (Direction.VIEW, "missing"): "field the consumer reads is not in the schema",
    (Direction.VIEW, "optional"): "field the consumer requires is optional",
    (Direction.VIEW, "type"): "type differs from the consumer's",
    (Direction.VIEW, "null"): "field may be null, the consumer refuses null",
    (Direction.VIEW, "values"): "values the consumer does not know",
    (Direction.VIEW, "constraint"): "constraint looser than the consumer's",
    (Direction.VIEW, "unknown"): "keyword the consumer relies on differs",
}


@dataclass(frozen=True)
class Finding:
    path: str
    """Where, e.g. ``$.payload.paid_at``."""
    kind: str
    """``missing``, ``optional``, ``type``, ``null``, ``values``, ``constraint`` or ``unknown``."""
    detail: str

    def describe(self, direction: Direction) -> str:
        return f"{self.path}: {RULES[direction, self.kind]} ({self.detail})"


def resolve(schema: Schema) -> Schema:
    """The schema with its local ``$ref``s inlined, so schemas compare by structure."""
    defs: dict[str, Any] = schema.get("$defs", {})

    def inline(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                name = node["$ref"].removeprefix("#/$defs/")
                if name in seen:
                    raise ValueError(f"recursive schema at {name!r} is not supported")
                rest = {k: v for k, v in node.items() if k != "$ref"}
                return inline(defs[name], (*seen, name)) | inline(rest, seen)
            return {k: inline(v, seen) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [inline(v, seen) for v in node]
        return node

    resolved: Schema = inline(schema, ())
    return resolved


def unreadable(writer: Schema, reader: Schema) -> list[Finding]:
    """Why some event valid under ``writer`` could be refused by ``reader`` (both resolved)."""
    return list(_check(writer, reader, "$"))


def _check(w: Any, r: Any, path: str) -> Iterator[Finding]:
    if r is True or r == {} or w is False:
        return
    if w is True or w == {}:
        w = {}
    for key in _UNIONS:
        if key in w:  # every kind of value the writer may write must be readable
            base = {k: v for k, v in w.items() if k != key}
            for branch in w[key]:
                yield from _check(base | branch, r, path)
            return
    for key in _UNIONS:
        if key in r:  # some branch of the reader must read it
            base = {k: v for k, v in r.items() if k != key}
            tries = [list(_check(w, base | branch, path)) for branch in r[key]]
            if not all(tries):
                return
            yield min(tries, key=lambda found: (found[0].kind == "type", len(found)))[0]
            return
    type_problem = _types(w, r, path)
    if type_problem is not None:
        yield type_problem
        return
    yield from _values(w, r, path)
    if "enum" not in w and "const" not in w:
        yield from _bounds(w, r, path)
    yield from _object(w, r, path)
    yield from _array(w, r, path)
    for key in sorted(set(r) - _UNDERSTOOD - DOC_KEYWORDS):
        if r.get(key) != w.get(key):
            yield Finding(path, "unknown", f"{key}: {w.get(key)!r} -> reader {r.get(key)!r}")


def _type_set(schema: Schema) -> set[str] | None:
    declared = schema.get("type")
    if declared is not None:
        return {declared} if isinstance(declared, str) else set(declared)
    values = _value_list(schema)
    if values is not None:
        return {_json_type(v) for v in values}
    if "properties" in schema:
        return {"object"}
    return None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    names = {float: "number", str: "string", list: "array", dict: "object"}
    return names[type(value)]


def _types(w: Schema, r: Schema, path: str) -> Finding | None:
    reader = _type_set(r)
    if reader is None:
        return None
    writer = _type_set(w)
    if writer is None:
        return Finding(path, "type", f"any type -> reader {_show(reader)}")
    extra = {t for t in writer if t not in reader and not (t == "integer" and "number" in reader)}
    if not extra:
        return None
    kind = "null" if extra == {"null"} else "type"
    return Finding(path, kind, f"{_show(writer)} -> reader {_show(reader)}")


def _show(types: set[str]) -> str:
    return "|".join(sorted(types))


def _value_list(schema: Schema) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    if "enum" in schema:
        return list(schema["enum"])
    return None


def _values(w: Schema, r: Schema, path: str) -> Iterator[Finding]:
    accepted = _value_list(r)
    if accepted is None:
        return
    written = _value_list(w)
    if written is None:
        yield Finding(path, "values", f"any value -> reader only {accepted!r}")
        return
    unknown = [v for v in written if v not in accepted]
    if unknown:
        yield Finding(path, "values", f"{unknown!r} not in reader's {accepted!r}")


def _bounds(w: Schema, r: Schema, path: str) -> Iterator[Finding]:
    for key in _LOWER_BOUNDS + _UPPER_BOUNDS:
        if key not in r:
            continue
        bound, written = r[key], w.get(key)
        lower = key in _LOWER_BOUNDS
        if written is None or (written < bound if lower else written > bound):
            yield Finding(path, "constraint", f"{key}: {written!r} -> reader {bound!r}")
    if "multipleOf" in r and (w.get("multipleOf") or 0) % r["multipleOf"] != 0:
        yield Finding(
            path, "constraint", f"multipleOf: {w.get('multipleOf')!r} -> {r['multipleOf']}"
        )
    if r.get("uniqueItems") and not w.get("uniqueItems"):
        yield Finding(path, "constraint", "uniqueItems: false -> reader true")
    for key in _SAME_OR_ABSENT:
        if key in r and w.get(key) != r[key]:
            yield Finding(path, "constraint", f"{key}: {w.get(key)!r} -> reader {r[key]!r}")


def _object(w: Schema, r: Schema, path: str) -> Iterator[Finding]:
    r_props: dict[str, Any] = r.get("properties", {})
    w_props: dict[str, Any] = w.get("properties", {})
    w_required = set(w.get("required", ()))
    for name in r.get("required", ()):
        if name not in w_props:
            yield Finding(f"{path}.{name}", "missing", "the writer does not have it")
        elif name not in w_required:
            yield Finding(f"{path}.{name}", "optional", "the writer may leave it out")
    for name in sorted(set(r_props) & set(w_props)):
        yield from _check(w_props[name], r_props[name], f"{path}.{name}")
    extra = r.get("additionalProperties", True)
    if extra is True or extra == {}:
        return  # unknown properties are ignored
    for name in sorted(set(w_props) - set(r_props)):
        if extra is False:
            yield Finding(f"{path}.{name}", "type", "the reader allows no other property")
        else:
            yield from _check(w_props[name], extra, f"{path}.{name}")
    yield from _check(w.get("additionalProperties", {}), extra, f"{path}[*]")


def _array(w: Schema, r: Schema, path: str) -> Iterator[Finding]:
    if "items" in r:
        yield from _check(w.get("items", {}), r["items"], f"{path}[]")
    r_prefix: list[Any] = r.get("prefixItems", [])
    w_prefix: list[Any] = w.get("prefixItems", [])
    for i, item in enumerate(r_prefix):
        written = w_prefix[i] if i < len(w_prefix) else w.get("items", {})
        yield from _check(written, item, f"{path}[{i}]")
