"""Domain objects to and from MongoDB documents, through pydantic's dataclass support."""

from typing import Any, TypeVar

from pydantic import TypeAdapter

T = TypeVar("T")

_adapters: dict[type[Any], TypeAdapter[Any]] = {}


def _adapter(cls: type[T]) -> TypeAdapter[T]:
    if cls not in _adapters:
        _adapters[cls] = TypeAdapter(cls)
    return _adapters[cls]


def to_document(obj: object) -> dict[str, Any]:
    """Dates and instants become ISO strings (BSON has no date type; ISO sorts right)."""
    dumped: dict[str, Any] = _adapter(type(obj)).dump_python(obj, mode="json")
    return dumped


def from_document(cls: type[T], doc: dict[str, Any]) -> T:
    return _adapter(cls).validate_python(doc)
