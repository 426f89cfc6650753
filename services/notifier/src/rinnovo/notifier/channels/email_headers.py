"""The headers of the notifier's e-mails: how two of them are folded, and what is done once.

The subject is folded by the standard library's ``email.header.Header``, not by the
default policy's folder, which reads back differently from what was recorded: when a line
break falls just before an encoded word (``è``, ``€``), Python 3.11 keeps the space before
the break and adds one after it, so the customer reads two spaces (python/cpython#144156);
and an ASCII subject too long for the first line is moved whole to a continuation line,
which parsers read with a leading space. Here ASCII text is folded at its spaces, and text
with anything else becomes UTF-8 encoded words, joined by folding white space that decoders
drop: unfolded and decoded, the subject is exactly the text recorded. The holder's name in
``To`` is encoded the same way when it is not ASCII (the default folder can drop a space
between two of its words near a fold).

Building a message and turning it into bytes is mostly header work, done by the standard
library's header registry: every header set is parsed into a tree, and every header sent is
folded from that tree. Most of it is the same for every message, so it is done once per
process: the registry's class for each header name (the standard registry makes a new class
each time it is asked for one); the parsed header for a value that repeats from message to
message (``From``, ``Reply-To``, the parts' types and encodings: shared by the messages, as
headers cannot be changed, only replaced); and each header's folded form for a given line
length, line ending and character set.
"""

from email.header import Header
from email.headerregistry import (
    BaseHeader,
    HeaderRegistry,
    UniqueAddressHeader,
    UnstructuredHeader,
)
from email.policy import Policy, default
from functools import lru_cache
from typing import Any

REPEATED = frozenset(
    {
        "from",
        "reply-to",
        "auto-submitted",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "content-language",
    }
)
"""The headers whose values repeat from message to message, parsed once per value (except a
multipart's type: its boundary is new in every message)."""


class _Remembered(BaseHeader):
    """A header that folds once for each policy it is folded for."""

    def fold(self, *, policy: Policy) -> str:
        folds: dict[tuple[str, int | None, bool], str] = self.__dict__.setdefault("_folds", {})
        key = (policy.linesep, policy.max_line_length, getattr(policy, "utf8", False))
        folded = folds.get(key)
        if folded is None:
            folded = folds[key] = super().fold(policy=policy)
        return folded


class _Subject(UnstructuredHeader, BaseHeader):
    def fold(self, *, policy: Policy) -> str:
        if getattr(policy, "utf8", False):  # SMTPUTF8: sent as it is, nothing to encode
            return super().fold(policy=policy)
        text, limit, linesep = str(self), policy.max_line_length or 78, policy.linesep
        plain = text.isascii() and "=?" not in text
        folded = Header(text, "us-ascii" if plain else "utf-8", limit, self.name).encode(
            linesep=linesep
        )
        if folded.startswith(linesep):  # a first word longer than the line: split it
            folded = Header(text, "utf-8", limit, self.name).encode(linesep=linesep)
        return f"{self.name}: {folded}{linesep}"


# typeshed declares the header mixins apart from BaseHeader; the registry joins them.
class _Addressee(UniqueAddressHeader, BaseHeader):  # type: ignore[misc]
    def fold(self, *, policy: Policy) -> str:
        [address] = self.addresses  # one recipient per message
        name, linesep = address.display_name, policy.linesep
        if name.isascii() or not address.addr_spec.isascii() or getattr(policy, "utf8", False):
            return super().fold(policy=policy)
        words = Header(name, "utf-8", policy.max_line_length or 78, self.name)
        return (
            f"{self.name}: {words.encode(linesep=linesep)}{linesep} <{address.addr_spec}>{linesep}"
        )


class _Registry(HeaderRegistry):
    """The standard registry, with the classes made once per name and the values in
    ``REPEATED`` parsed once."""

    def __init__(self) -> None:
        super().__init__(base_class=_Remembered)
        self._made: dict[str, type[BaseHeader]] = {}
        self._parsed = lru_cache(maxsize=256)(super().__call__)

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made

    def __call__(self, name: str, value: Any) -> BaseHeader:
        if name.lower() in REPEATED and isinstance(value, str) and "boundary=" not in value:
            return self._parsed(name, value)
        return super().__call__(name, value)

    def map_to_type(self, name: str, cls: type[BaseHeader]) -> None:
        super().map_to_type(name, cls)
        self._made.pop(name.lower(), None)
        self._parsed.cache_clear()


_HEADERS = _Registry()
_HEADERS.map_to_type("subject", _Subject)
_HEADERS.map_to_type("to", _Addressee)
POLICY = default.clone(header_factory=_HEADERS)
"""The default policy, with the subject and the addressee folded as described above, and
what repeats done once."""
