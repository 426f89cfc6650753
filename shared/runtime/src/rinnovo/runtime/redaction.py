"""Keeps secrets and personal data out of the logs: a structlog processor.

Two nets: a field whose name says it holds a secret or personal data (``password``,
``token``, ``secret``, ``authorization``, ``iban``, ``email``, ...) is replaced whole,
at any depth; and any text logged, exception messages and tracebacks included, has e-mail
addresses, bearer tokens, JWTs, provider keys, IBANs and credentials in URLs masked.
Tracebacks carry no frame locals at all (``logging.py``): those held request bodies, keys
and tokens.
"""

import re
from collections.abc import Mapping, MutableMapping
from typing import Any

REDACTED = "[redacted]"

SENSITIVE_FIELDS = (
    "password",
    "passwd",
    "secret",
    "token",
    "authorization",
    "api_key",
    "apikey",
    "cookie",
    "signature",
    "iban",
    "email",
    "e_mail",
    "phone",
    "fiscal_code",
    "codice_fiscale",
    "holder",
    "recipient",
)

PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\bbearer\s+[\w.~+/=-]+"), "Bearer " + REDACTED),
    (re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]*"), "[jwt]"),
    (re.compile(r"\b(?:sk|rk|pk|whsec)_[A-Za-z0-9_]{6,}"), "[key]"),
    (re.compile(r"(?i)\b(?:password|passwd|secret|token)=[^\s&,;'\"]+"), REDACTED),
    (re.compile(r"([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@"), r"\1" + REDACTED + "@"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    (re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"), "[iban]"),
)


def is_sensitive(key: str) -> bool:
    name = key.lower().replace("-", "_")
    return any(field in name for field in SENSITIVE_FIELDS)


def scrub(value: Any) -> Any:
    """``value`` with sensitive fields replaced and sensitive text masked, at any depth."""
    if isinstance(value, str):
        for pattern, replacement in PATTERNS:
            value = pattern.sub(replacement, value)
        return value
    if isinstance(value, Mapping):
        return {
            k: REDACTED if isinstance(k, str) and is_sensitive(k) else scrub(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


def redact(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> dict[str, Any]:
    """The structlog processor: runs after tracebacks are rendered, before the renderer."""
    scrubbed: dict[str, Any] = scrub(event_dict)
    return scrubbed
