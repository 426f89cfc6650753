"""Domain objects to and from MongoDB documents, through pydantic's dataclass support."""

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

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


def from_document(cls: type[T], doc: Mapping[str, Any]) -> T:
    return _adapter(cls).validate_python(doc)


class StateCodec(Generic[T]):
    """An aggregate's state under ``state``, beside top-level copies of the fields its
    indexes and queries need (``indexed``)."""

    def __init__(
        self, model: type[T], indexed: Callable[[T], dict[str, Any]] = lambda _: {}
    ) -> None:
        self.model = model
        self._indexed = indexed

    def encode(self, value: T) -> dict[str, Any]:
        return {"state": to_document(value), **self._indexed(value)}

    def decode(self, doc: Mapping[str, Any]) -> T:
        return from_document(self.model, doc["state"])
