"""Message translation.

Sunlit is Chinese-first: message ids in the code are the zh-CN text itself, and other
languages (English today) come from gettext catalogs under ``sunlit/locale``. A message with
no translation therefore always falls back to correct Chinese, never to an identifier.
See docs/adr/0004-chinese-first-i18n.md.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

DEFAULT_LOCALE = "zh_CN"
SUPPORTED_LOCALES = ("zh_CN", "en")
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("locale", default=DEFAULT_LOCALE)


@cache
def _catalog(locale: str) -> Mapping[str, str]:
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string}


def current_locale() -> str:
    return _current.get()


def normalize_locale(value: str | None) -> str:
    """Map a cookie / Accept-Language value to a supported locale (zh_CN by default)."""
    if not value:
        return DEFAULT_LOCALE
    for part in value.replace("-", "_").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("en"):
            return "en"
        if tag.startswith("zh"):
            return "zh_CN"
    return DEFAULT_LOCALE


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    token = _current.set(normalize_locale(locale))
    try:
        yield
    finally:
        _current.reset(token)


def set_locale(locale: str) -> contextvars.Token[str]:
    return _current.set(normalize_locale(locale))


def gettext(message: str, **params: Any) -> str:
    """Translate a zh-CN message id into the current locale and format ``{name}`` params."""
    locale = _current.get()
    text = message if locale == DEFAULT_LOCALE else _catalog(locale).get(message, message)
    return text.format(**params) if params else text


_ = gettext
