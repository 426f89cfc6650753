"""Statement formats are plugins: each reads one kind of file a bank delivers into a
``Statement``. They are found through the ``rinnovo.payments.statement_formats`` entry points,
and only those in the allow-list are loaded. A file is matched to its format by the media
type it is sent with, or (on the command line) by its content and then its name."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Protocol, runtime_checkable

from rinnovo.payments.domain.statements import Statement
from rinnovo.runtime.plugins import load_plugins

STATEMENT_FORMATS_GROUP = "rinnovo.payments.statement_formats"


@runtime_checkable
class StatementFormat(Protocol):
    name: str
    description: str
    media_types: tuple[str, ...]
    """What the file is sent as; the first is the one the API document shows."""
    suffixes: tuple[str, ...]

    def recognises(self, data: bytes) -> bool:
        """Whether the content looks like this format, whatever the file's name."""
        ...

    def parse(self, data: bytes) -> Statement:
        """The whole file, or ``InvalidStatement`` naming each problem."""
        ...


@dataclass(frozen=True)
class FileFormat:
    """A statement format made of a reader and a test of the content."""

    name: str
    description: str
    media_types: tuple[str, ...]
    suffixes: tuple[str, ...]
    sniff: Callable[[bytes], bool]
    reader: Callable[[bytes], Statement]

    def recognises(self, data: bytes) -> bool:
        return self.sniff(data)

    def parse(self, data: bytes) -> Statement:
        return self.reader(data)


def without_bom(data: bytes) -> bytes:
    return data.removeprefix(b"\xef\xbb\xbf").lstrip()


@dataclass(frozen=True)
class StatementFormats:
    formats: Mapping[str, StatementFormat]

    def for_media_type(self, content_type: str) -> StatementFormat | None:
        kind = content_type.split(";")[0].strip().lower()
        if kind.endswith("+xml"):
            kind = "application/xml"
        return next((f for f in self.formats.values() if kind in f.media_types), None)

    def for_file(self, name: str, data: bytes) -> StatementFormat | None:
        suffix = PurePath(name).suffix.lower()
        by_content = [f for f in self.formats.values() if f.recognises(data)]
        by_name = [f for f in self.formats.values() if suffix in f.suffixes]
        both = [f for f in by_content if f in by_name]
        return next(iter(both or by_content or by_name), None)

    @property
    def media_types(self) -> dict[str, str]:
        """Each media type a statement may be sent as, with the format it is read as."""
        return {t: f.description for f in self.formats.values() for t in f.media_types}


def load_statement_formats(allowed: Iterable[str]) -> StatementFormats:
    protocol: type = StatementFormat
    return StatementFormats(load_plugins(STATEMENT_FORMATS_GROUP, allowed, protocol))
