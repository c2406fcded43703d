"""Price source adapters by kind, each with a pure ``parse`` and a ``collect`` that fetches.

Every adapter module offers ``SETTINGS_HELP`` (its settings keys, for admins) and
``collect(*, fetcher, url, settings, today) -> Collected``; ``PriceSource.kind`` picks one.
"""

from __future__ import annotations

from types import ModuleType

from market.prices.sources import agro_mae, html_table, tabular
from market.prices.sources.base import Collected, ParseResult, RawRow, Rejection, SourceError

__all__ = [
    "ADAPTERS",
    "Collected",
    "ParseResult",
    "RawRow",
    "Rejection",
    "SourceError",
    "get_adapter",
]

ADAPTERS: dict[str, ModuleType] = {
    "html_table": html_table,
    "agro_mae": agro_mae,
    "csv": tabular,
    "xlsx": tabular,
}


def get_adapter(kind: str) -> ModuleType:
    """The adapter module for a source kind; ``KeyError`` names the known kinds."""
    try:
        return ADAPTERS[kind]
    except KeyError:
        raise KeyError(f"unknown source kind {kind!r}; known: {', '.join(ADAPTERS)}") from None
