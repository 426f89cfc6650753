"""What a request may carry, read from an OpenAPI document: its bounds, and their edges.

``unbounded`` names every integer, number and date a request takes without both bounds in
the document (a client cannot know them; a fuzzer never tries them). ``with_extremes``
returns a copy of a document in which each of them also takes the values that broke the
system once: integers MongoDB cannot keep, dates at the ends of the calendar, and the day
just past each date bound. The fuzzer's boundary phase enumerates them next to the bounds.
"""

import copy
from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from typing import Any

Schema = dict[str, Any]

INTEGER_EXTREMES = (2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30)
"""The largest 8-byte integer, just past it, 2**64, the most negative past it, 10**30."""
DATE_EXTREMES = ("0001-01-01", "9999-12-31")
NUMBER_TYPES = {"integer", "number"}
DATE_BOUNDS = ("formatMinimum", "formatMaximum")


def _request_schemas(document: Schema) -> Iterator[tuple[str, Schema]]:
    """Each request's parameter and body schema, named by operation and place."""
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                if "schema" in parameter:
                    yield f"{where} {parameter['in']} {parameter['name']}", parameter["schema"]
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                if "schema" in content:
                    yield f"{where} body ({media})", content["schema"]


def _component(document: Schema, ref: str) -> tuple[str, Schema]:
    name = ref.rsplit("/", 1)[-1]
    return name, document["components"]["schemas"][name]


def _walk(
    document: Schema, schema: Any, where: str, seen: set[str]
) -> Iterator[tuple[str, Schema]]:
    """Every schema under ``schema`` with its place, following references once each."""
    if isinstance(schema, list):
        for item in schema:
            yield from _walk(document, item, where, seen)
        return
    if not isinstance(schema, dict):
        return
    if "$ref" in schema:
        name, target = _component(document, schema["$ref"])
        if name not in seen:
            seen.add(name)
            yield from _walk(document, target, name, seen)
        return
    yield where, schema
    for key, value in schema.items():
        if key == "properties":
            for field, sub in value.items():
                yield from _walk(document, sub, f"{where}.{field}", seen)
        elif key in {"items", "additionalProperties", "anyOf", "oneOf", "allOf", "prefixItems"}:
            yield from _walk(document, value, where, seen)


def _kind(schema: Schema) -> str | None:
    types = schema.get("type")
    types = set(types) if isinstance(types, list) else {types}
    if types & NUMBER_TYPES:
        return "number"
    if "string" in types and schema.get("format") == "date":
        return "date"
    return None


def _bounded(schema: Schema, kind: str) -> bool:
    if kind == "date":
        return all(key in schema for key in DATE_BOUNDS)
    low = "minimum" in schema or "exclusiveMinimum" in schema
    high = "maximum" in schema or "exclusiveMaximum" in schema
    return low and high


def unbounded(document: Schema) -> list[str]:
    """Every number and date a request takes without both its bounds, by place."""
    found = []
    for place, root in _request_schemas(document):
        for where, schema in _walk(document, root, place, set()):
            kind = _kind(schema)
            if kind and not _bounded(schema, kind):
                found.append(f"{where}: a {kind} without both bounds")
    return sorted(set(found))


def _next_day(text: str, days: int) -> str:
    return (date.fromisoformat(text) + timedelta(days=days)).isoformat()


def _extremes(schema: Schema, kind: str) -> list[Any]:
    if kind == "number":
        return list(INTEGER_EXTREMES)
    edges = list(DATE_EXTREMES)
    if "formatMinimum" in schema:
        edges.append(_next_day(schema["formatMinimum"], -1))
    if "formatMaximum" in schema:
        edges.append(_next_day(schema["formatMaximum"], 1))
    return edges


def with_extremes(document: Schema, pinned: Mapping[str, str] | None = None) -> Schema:
    """A copy in which every number and date of a request also takes its extremes.

    ``pinned`` names string fields of request bodies that take one known value (an id the
    data holds): a request then reaches storage instead of stopping at a 404 or a 422."""
    widened = copy.deepcopy(document)
    for place, root in list(_request_schemas(widened)):
        for where, schema in list(_walk(widened, root, place, set())):
            field = where.rsplit(".", 1)[-1]
            if pinned and field in pinned and schema.get("type") == "string":
                schema.clear()
                schema.update({"type": "string", "enum": [pinned[field]]})
                continue
            kind = _kind(schema)
            if kind is None or "anyOf" in schema:
                continue
            original = dict(schema)
            schema.clear()
            schema["anyOf"] = [original, {"enum": _extremes(original, kind)}]
    return widened
