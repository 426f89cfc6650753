"""Languages: any BCP 47 tag in, one of the languages we write in out.

Customers and integrators name a language as they please (``en``, ``EN``, ``en-GB``,
``en_US``, ``eng``); what is stored and published is its language, one of ``SUPPORTED``.
Every service reads languages through this module, so they all agree on what a tag means.
"""

from typing import Annotated

import langcodes
from pydantic import AfterValidator, Field

SUPPORTED = ("it", "en")
DEFAULT = "it"
MAX_TAG = 35
"""Longer than any tag a client needs (RFC 5646 recommends at least 35 characters)."""


def supported_language(tag: str | None) -> str | None:
    """The supported language a BCP 47 tag names, or None (another language, not a tag)."""
    text = (tag or "").strip()
    if not text or len(text) > MAX_TAG:
        return None
    try:
        language = langcodes.Language.get(text).language
    except ValueError:  # langcodes.LanguageTagError included
        return None
    return language if language in SUPPORTED else None


def choose_locale(requested: str | None, default: str = DEFAULT) -> str:
    """The language to write in: the requested one if we can, else ``default``, never an
    error (a message in the default language is better than none)."""
    if default not in SUPPORTED:
        raise ValueError(f"default locale {default!r} has no templates")
    return supported_language(requested) or default


def _normalised(tag: str) -> str:
    language = supported_language(tag)
    if language is None:
        raise ValueError(f"a language tag (BCP 47) of one of: {', '.join(SUPPORTED)}")
    return language


Locale = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_TAG,
        description="A BCP 47 language tag such as `it`, `EN`, `en-GB`; stored as its "
        f"language, one of {', '.join(f'`{s}`' for s in SUPPORTED)}.",
        examples=["it", "en-GB"],
    ),
    AfterValidator(_normalised),
]
"""A language in a request: any tag of a supported language, kept as that language."""
