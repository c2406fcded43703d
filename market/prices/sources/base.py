"""What every price source adapter returns, so storage never depends on a page's layout.

Adapters only *read* a page: each price stays text exactly as printed (``RawRow``) and
interpretation (numbers, units, dates) happens once, in ``market.prices.normalise``. A row the
adapter cannot read becomes a ``Rejection`` with a reason, and never stops the other rows; a page
whose layout is not the one expected raises ``SourceError`` instead of yielding nothing quietly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from market.text import fold

__all__ = [
    "Collected",
    "ParseResult",
    "RawRow",
    "Rejection",
    "SourceError",
    "clean_text",
    "is_blank",
    "parse_scale",
    "unknown_settings",
]

FIELDS = (
    "commodity",
    "market",
    "price",
    "unit",
    "date",
    "change",
    "price_type",
    "currency",
    "source",
)
"""Field names that settings (``columns``, ``fixed``, ``attributes``) may refer to."""


@dataclass(frozen=True)
class RawRow:
    """One price as the page printed it; nothing is interpreted yet."""

    commodity: str
    market: str | None
    price_text: str
    unit_text: str | None = None
    date_text: str | None = None
    change_text: str | None = None
    price_type_text: str | None = None
    currency_text: str | None = None
    source_text: str | None = None
    row_number: int | None = None
    raw: str = ""
    change_unit_text: str | None = None
    """The change column's own unit when it differs from the price's, e.g. "(đ/kg)" under a
    "(1.000 đ/kg)" price header; None means the change is in the price's unit and scale."""


@dataclass(frozen=True)
class Rejection:
    """A row that could not be read, kept so officials can see what the source printed.

    ``reason`` is translated with Flask-Babel when the rejection is made: in the locale of the
    app context (Vietnamese for collection jobs), in English without one.
    """

    row_number: int | None
    raw: str
    reason: str


@dataclass
class ParseResult:
    """Rows read from one or more pages.

    ``empty`` means the page said there is no data (not an error). ``defaults`` and ``scale``
    carry what the page states once for all rows (e.g. the unit in a "(1.000 đ/kg)" header);
    ``warnings`` are notes for the collection run (e.g. paging stopped at ``max_pages``).
    """

    rows: list[RawRow] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    empty: bool = False
    defaults: dict[str, str] = field(default_factory=dict)
    scale: Decimal | None = None
    warnings: list[str] = field(default_factory=list)

    def merge(self, other: ParseResult) -> None:
        """Add *other*'s rows; the result stays empty only if both pages said "no data"."""
        self.rows.extend(other.rows)
        self.rejected.extend(other.rejected)
        self.warnings.extend(other.warnings)
        for key, value in other.defaults.items():
            self.defaults.setdefault(key, value)
        if self.scale is None:
            self.scale = other.scale
        self.empty = self.empty and other.empty


class SourceError(Exception):
    """The page cannot be parsed at all (its layout changed); the message says what was expected."""


@dataclass
class Collected:
    """Everything one ``collect`` call gathered, ready for ``normalise``.

    ``defaults`` holds page-level values (commodity, market, unit, date, price_type, currency)
    that rows lack; ``thousands`` and ``scale`` are passed on to ``normalise`` unchanged.
    """

    pages: list[str]
    result: ParseResult
    defaults: dict[str, str] = field(default_factory=dict)
    thousands: str | None = "."
    scale: Decimal | None = None


def clean_text(text: str | None) -> str:
    """Collapse whitespace (including non-breaking spaces) the way a reader sees the text."""
    if not text:
        return ""
    return " ".join(text.replace("\xa0", " ").replace("\u200b", "").split())


_BLANKS = {"", "-", "\u2013", "\u2014", "--", "...", "\u2026", "..", "n/a", "na", "n.a.", "x"}


def is_blank(text: str | None) -> bool:
    """Tell whether a cell prints "nothing here" ("", "-", "—", "…", "n/a")."""
    return fold(clean_text(text)) in _BLANKS


def parse_scale(value: Any) -> Decimal:
    """Read a configured ``scale`` (1000, "1000", "1.000") as an exact Decimal."""
    if isinstance(value, bool):
        raise SourceError(f"scale must be a number, got {value!r}")
    if isinstance(value, int | Decimal):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    else:
        text = re.sub(r"[.,\s](?=\d{3}\b)", "", str(value).strip())
        try:
            result = Decimal(text.replace(",", "."))
        except InvalidOperation as exc:
            raise SourceError(f"scale must be a number, got {value!r}") from exc
    if not result.is_finite() or result <= 0:
        raise SourceError(f"scale must be a positive number, got {value!r}")
    return result


def unknown_settings(settings: Mapping[str, Any], known: Iterable[str]) -> list[str]:
    """Settings keys an adapter does not understand (typos an admin should hear about)."""
    allowed = set(known)
    return sorted(key for key in settings if key not in allowed)
