"""From a price as printed ("64.800 - 64.900", "1,2 triệu", "(1.000 đ/kg)") to exact numbers.

Every price becomes a Decimal per *base* unit (kg, m³, con, quả, …, from units.csv) in its
currency, so prices from different pages compare. Nothing is guessed: a price, unit or date that
cannot be read raises ``RowError`` with a reason the collection run records.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache
from pathlib import Path

from flask_babel import lazy_gettext as _l

from market.prices.sources.base import Collected, RawRow, Rejection, clean_text, is_blank
from market.text import (
    DateFormatError,
    NumberFormatError,
    fold,
    parse_change,
    parse_date,
    parse_number,
    parse_range,
)

__all__ = [
    "PRICE_TYPES",
    "NormalisedPrice",
    "RowError",
    "Unit",
    "UnitSpec",
    "classify_price_type",
    "normalise",
    "normalise_all",
    "normalise_collected",
    "parse_currency",
    "parse_price_unit",
    "round_price",
    "units",
]

UNITS_CSV = Path(__file__).resolve().parent.parent / "data" / "units.csv"
PRICE_TYPES = ("farm_gate", "wholesale", "retail", "export")
PLACES = Decimal("0.0001")
"""Prices divided by a non-decimal factor (lb) are rounded to the price columns' scale
(``models.PRICE``), so that a price read again compares equal to the one stored."""


MAX_PRICE = Decimal(10) ** 15
"""No agricultural price per base unit comes near this; larger means a misread number."""


class RowError(ValueError):
    """A row's price, unit or date cannot be understood; the message says why.

    The message is a lazy Flask-Babel string: ``str(error)`` gives it in the current locale
    (Vietnamese in the app and its jobs) and in English outside an app context.
    """


# ---------------------------------------------------------------------------
# Units
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """A row of units.csv: ``factor`` is None when the unit has no fixed size (bao, vỉ)."""

    code: str
    name_vi: str
    kind: str
    factor: Decimal | None
    base: str


# Spellings seen on Vietnamese and international price pages, folded, beyond units.csv's names.
_UNIT_ALIASES = {
    "kg": ["kg", "kgs", "ky", "ki lo", "kilo", "kilogram", "kilogam", "can"],
    "g": ["g", "gr", "gam", "gram"],
    "lang": ["lang"],
    "yen": ["yen"],
    "ta": ["ta"],
    "tan": ["tan", "t", "mt", "tonne", "tonnes", "ton", "tons", "metric ton"],
    "gia": ["gia"],
    "lb": ["lb", "lbs", "pound", "pounds"],
    "m3": ["m3", "khoi", "met khoi", "cbm"],
    "lit": ["lit", "l", "litre", "liter", "litres", "liters"],
    "ml": ["ml"],
    "ster": ["ster", "ste"],
    "con": ["con", "head"],
    "qua": ["qua", "trai", "hot", "qua trung", "trung"],
    "chuc": ["chuc"],
    "vi_trung": ["vi", "vi trung"],
    "cay": ["cay"],
    "buong": ["buong"],
    "bao": ["bao"],
    "ha": ["ha", "hecta", "hec ta"],
    "m2": ["m2"],
    "sao_trung_bo": ["sao"],  # the sào of Central Vietnam, which Quảng Trị uses
    "cong_nam_bo": ["cong"],
    "mau_trung_bo": ["mau"],
}
# Folding merges "tá" (dozen) with "tạ" (100 kg); the accented spellings decide before folding.
_EXACT_UNITS = {"tá": "ta_dozen", "tạ": "ta"}


@cache
def units() -> dict[str, Unit]:
    """The unit catalogue shipped in market/data/units.csv, by code."""
    with UNITS_CSV.open(encoding="utf-8", newline="") as fh:
        return {
            row["code"]: Unit(
                code=row["code"],
                name_vi=row["name_vi"],
                kind=row["kind"],
                factor=Decimal(row["factor_to_base"]) if row["factor_to_base"] else None,
                base=row["base_unit"],
            )
            for row in csv.DictReader(fh)
        }


@cache
def _unit_lookup() -> dict[str, str]:
    """Folded spelling → unit code: codes, names from units.csv, then the aliases above."""
    lookup: dict[str, str] = {}
    for unit in units().values():
        lookup.setdefault(fold(unit.code), unit.code)
        name = fold(unit.name_vi)
        lookup.setdefault(name, unit.code)
        for part in re.split(r"[(),]", name):
            if part.strip():
                lookup.setdefault(fold(part), unit.code)
    for code, spellings in _UNIT_ALIASES.items():
        for spelling in spellings:
            lookup[spelling] = code
    return lookup


def _unit_code(text: str) -> tuple[str | None, Decimal]:
    """Map a unit as printed after "/" to ``(code, count)``; "10kg" is ``("kg", 10)``."""
    exact = unicodedata.normalize("NFC", text.strip().lower())
    if exact in _EXACT_UNITS:
        return _EXACT_UNITS[exact], Decimal(1)
    folded = fold(text.replace("³", "3").replace("²", "2"))
    folded = re.sub(r"\s*\(.*\)$", "", folded).strip(" .)(")
    count = Decimal(1)
    match = re.match(r"^([0-9]+(?:[.,][0-9]+)?)\s*(.*)$", folded)
    if match and match.group(2):
        count = parse_number(match.group(1), thousands=None)
        folded = match.group(2)
    lookup = _unit_lookup()
    if folded in lookup:
        return lookup[folded], count
    first = folded.split(" ")[0]
    if first in lookup and len(first) > 1:
        return lookup[first], count
    return None, count


@dataclass(frozen=True)
class UnitSpec:
    """What a printed unit says: currency, a multiplier (nghìn = 1000) and the unit's code.

    ``explicit_currency`` tells whether the text named a currency, so a separate currency
    column may fill it in; ``unit_text`` is the printed unit after "/" (None if absent).
    """

    currency: str = "VND"
    scale: Decimal = Decimal(1)
    unit_code: str | None = None
    explicit_currency: bool = False
    unit_text: str | None = None

    def canonical(self) -> str:
        """The spec without its scale, e.g. "VND/kg", for use as a page-level default."""
        return f"{self.currency}/{self.unit_code}" if self.unit_code else self.currency


# Money words at the end of the part before "/", folded; value is (currency, scale).
_CURRENCY_WORDS: list[tuple[str, tuple[str, Decimal]]] = [
    (r"us\s*cents?|u\.s\.\s*cents?|usc|cents?|¢", ("USD", Decimal("0.01"))),
    (r"usd|us\s*\$|us\s*dollars?|\$|do\s*la(?:\s*my)?", ("USD", Decimal(1))),
    (r"vnd|vn\s*d|dong|d|vnd\.?", ("VND", Decimal(1))),
]
_MONEY = re.compile(
    r"^(?P<amount>.*?)\s*(?P<cur>"
    + "|".join(f"(?:{pattern})" for pattern, _ in _CURRENCY_WORDS)
    + r")\.?$"
)
_ISO_CODE = re.compile(r"[A-Z]{3}")
_SHORT_SCALES = {"tr": "trieu", "k": "nghin", "ng": "nghin", "ngh": "nghin"}


def _money_scale(amount: str, text: str) -> Decimal:
    """Read the multiplier before the currency: "", "1.000", "nghìn", "1000", "triệu", "tr"."""
    amount = amount.strip(" .")
    if not amount:
        return Decimal(1)
    words = amount.split(" ")
    if words[-1] in _SHORT_SCALES:
        words[-1] = _SHORT_SCALES[words[-1]]
    amount = " ".join(words)
    if not amount[0].isdigit():
        amount = "1 " + amount
    try:
        value = parse_number(amount, thousands=None)
    except NumberFormatError as exc:
        raise RowError(
            _l("cannot read the unit “%(text)s”: %(error)s", text=text, error=exc)
        ) from exc
    if value <= 0:
        raise RowError(_l("the unit “%(text)s” has a scale that is not positive", text=text))
    return value


def parse_price_unit(text: str | None) -> UnitSpec:
    """Read a printed price unit such as "(1.000 đ/kg)", "USD/MT" or "US cent/lb".

    The part before "/" gives the currency and a multiplier ("nghìn đồng" = 1000 VND), the part
    after it the unit code from units.csv ("tấn" → "tan", "khối" → "m3", "trái" → "qua"). A
    unit not in the catalogue leaves ``unit_code`` None; the caller decides what to do.
    """
    if text is None or not clean_text(text):
        return UnitSpec()
    raw = clean_text(text).strip("()[] ")
    money, slash, per = raw.partition("/")
    if not slash:
        code, _ = _unit_code(raw)
        if code is not None and not _MONEY.match(fold(raw)):
            return UnitSpec(unit_code=code, unit_text=raw)
        per = ""
    folded_money = fold(money.replace("₫", "đ")).strip()
    currency, scale, explicit = "VND", Decimal(1), False
    match = _MONEY.match(folded_money)
    if match:
        word = match.group("cur")
        for pattern, (code, unit_scale) in _CURRENCY_WORDS:
            if re.fullmatch(pattern, word):
                currency, scale, explicit = code, unit_scale, True
                break
        scale *= _money_scale(match.group("amount"), text)
    elif _ISO_CODE.fullmatch(money.strip()):
        currency, explicit = money.strip(), True  # another ISO 4217 code, e.g. EUR
    elif folded_money:
        if not re.fullmatch(r"[0-9.,\s]*(?:nghin|ngan|trieu|tram|k|tr)?", folded_money):
            raise RowError(_l("cannot read the currency in the unit “%(text)s”", text=text))
        scale = _money_scale(folded_money, text)
    unit_code: str | None = None
    if per.strip():
        unit_code, count = _unit_code(per)
        scale /= count
    return UnitSpec(
        currency=currency,
        scale=scale,
        unit_code=unit_code,
        explicit_currency=explicit,
        unit_text=per.strip() or None,
    )


def parse_currency(text: str | None) -> str | None:
    """Read a currency column ("VNĐ", "đồng", "USD", "US$"); None when blank."""
    if text is None or not clean_text(text):
        return None
    folded = fold(text).strip(" .")
    if folded in {"vnd", "vn dong", "dong", "d", "vnd/kg", "viet nam dong"}:
        return "VND"
    if folded in {"usd", "us$", "$", "do la my", "do la", "dollar", "us dollar"}:
        return "USD"
    if _ISO_CODE.fullmatch(clean_text(text)):
        return clean_text(text)
    raise RowError(_l("cannot read the currency “%(text)s”", text=text))


# ---------------------------------------------------------------------------
# Price types
# ---------------------------------------------------------------------------

_PRICE_TYPE_PATTERNS: list[tuple[str, str]] = [
    ("export", r"xuat khau|\bxk\b|\bfob\b|\bcif\b|\bexport"),
    ("wholesale", r"ban buon|ban si|dau moi|\bsi\b|wholesale"),
    ("retail", r"ban le|\ble\b|retail"),
    (
        "farm_gate",
        r"thu mua|tai vuon|tai ruong|tai ao|tai trai|tai chuong|tai ham|nong dan ban"
        r"|tai dong|farm.?gate",
    ),
]


def classify_price_type(text: str | None) -> str | None:
    """Map "Giá bán lẻ", "giá thu mua tại vườn", "FOB" … to farm_gate/wholesale/retail/export."""
    if not text:
        return None
    folded = fold(text).replace("_", " ")
    if folded.replace(" ", "_") in PRICE_TYPES:
        return folded.replace(" ", "_")
    for price_type, pattern in _PRICE_TYPE_PATTERNS:
        if re.search(pattern, folded):
            return price_type
    return None


# ---------------------------------------------------------------------------
# Normalising one row
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NormalisedPrice:
    """One price in ``currency`` per ``unit_code`` (a base unit whenever the unit has a factor)."""

    commodity_name: str
    market_name: str | None
    price_type: str | None
    price: Decimal
    price_min: Decimal
    price_max: Decimal
    unit_code: str
    currency: str
    observed_on: date
    change: Decimal | None
    raw_text: str
    price_type_text: str | None = None
    unit_text: str | None = None
    source_text: str | None = None
    row_number: int | None = None


def round_price(value: Decimal) -> Decimal:
    """Round to ``PLACES`` and print plainly: 64850 not 6.485E+4, 2.35 not 2.350000."""
    value = value.quantize(PLACES, rounding=ROUND_HALF_EVEN)
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


_SPLIT_NUMBER_WORD = re.compile(r"(?<=[0-9])(?=[^\W\d_])")


def _price_and_unit(text: str, thousands: str | None) -> tuple[Decimal, Decimal, str | None]:
    """Read "64.800 - 64.900" or "86.900 đ/kg": ``(low, high, unit printed in the cell)``."""
    cleaned = clean_text(text)
    try:
        found = parse_range(cleaned, thousands=thousands)
        return found.low, found.high, None
    except NumberFormatError as first_error:
        error = first_error
    tokens = _SPLIT_NUMBER_WORD.sub(" ", cleaned).split(" ")
    for cut in range(len(tokens) - 1, 0, -1):
        prefix, suffix = " ".join(tokens[:cut]), " ".join(tokens[cut:])
        try:
            found = parse_range(prefix, thousands=thousands)
            spec = parse_price_unit(suffix)
        except (NumberFormatError, RowError):
            continue
        if spec.explicit_currency or spec.unit_code or spec.scale != 1:
            return found.low, found.high, suffix
    raise RowError(_l("cannot read the price “%(text)s”: %(error)s", text=text, error=error))


def _resolve_date(text: str | None, today: date) -> date:
    if text is None or not clean_text(text):
        raise RowError(_l("no date printed and none configured"))
    if fold(text) in {"today", "hom nay"}:
        return today
    try:
        found = parse_date(text, today=today)
    except DateFormatError as exc:
        raise RowError(
            _l("cannot read the date “%(text)s”: %(error)s", text=text, error=exc)
        ) from exc
    if found > today + timedelta(days=1):
        raise RowError(
            _l(
                "the date %(date)s (“%(text)s”) lies in the future",
                date=found.isoformat(),
                text=text,
            )
        )
    return found


def _change_multiplier(text: str, price_spec: UnitSpec, price_unit: Unit) -> Decimal:
    """Multiplier for a change printed in its own unit; its unit defaults to the price's."""
    spec = parse_price_unit(text)
    if spec.explicit_currency and spec.currency != price_spec.currency:
        raise RowError(
            _l(
                "the change unit “%(text)s” is not in %(currency)s",
                text=text,
                currency=price_spec.currency,
            )
        )
    unit = units()[spec.unit_code] if spec.unit_code else price_unit
    if unit.base != price_unit.base:
        raise RowError(_l("the change unit “%(text)s” does not match the price unit", text=text))
    return spec.scale / unit.factor if unit.factor is not None else spec.scale


def normalise(
    row: RawRow,
    *,
    defaults: Mapping[str, str] | None = None,
    today: date,
    thousands: str | None = ".",
    scale: Decimal | None = None,
) -> NormalisedPrice:
    """Turn one printed row into exact numbers per base unit, or raise ``RowError``.

    *defaults* fills what the row lacks (keys commodity, market, unit, date, price_type,
    currency), e.g. the unit a page prints once. *scale* is a multiplier stated outside the
    row (a "(1.000 đ/kg)" header); it multiplies on top of any scale in the unit itself.
    """
    defaults = defaults or {}

    def pick(own: str | None, key: str) -> str | None:
        own = clean_text(own)
        return own or clean_text(defaults.get(key)) or None

    commodity = pick(row.commodity, "commodity")
    if commodity is None:
        raise RowError(_l("no commodity name"))
    if is_blank(row.price_text):
        raise RowError(_l("no price printed"))
    low, high, cell_unit = _price_and_unit(row.price_text, thousands)

    # The row's unit column wins, then a unit printed in the price cell, then the page's.
    unit_text = clean_text(row.unit_text) or cell_unit or pick(None, "unit")
    if unit_text is None:
        raise RowError(_l("no unit printed and none configured"))
    spec = parse_price_unit(unit_text)
    if spec.unit_code is None:
        raise RowError(_l("unknown unit “%(text)s”", text=unit_text))
    currency = spec.currency
    column_currency = parse_currency(pick(row.currency_text, "currency"))
    if spec.explicit_currency and column_currency and column_currency != spec.currency:
        raise RowError(
            _l(
                "the currency %(currency)s disagrees with the unit “%(text)s”",
                currency=column_currency,
                text=unit_text,
            )
        )
    if not spec.explicit_currency and column_currency:
        currency = column_currency

    unit = units()[spec.unit_code]
    multiplier = spec.scale * (scale if scale is not None else 1)
    unit_code = unit.code
    if unit.factor is not None:
        multiplier /= unit.factor
        unit_code = unit.base

    if low <= 0:
        raise RowError(_l("the price “%(text)s” is not positive", text=row.price_text))
    if high * multiplier > MAX_PRICE:
        raise RowError(_l("the price “%(text)s” is implausibly large", text=row.price_text))
    observed_on = _resolve_date(pick(row.date_text, "date"), today)

    change: Decimal | None = None
    change_text = clean_text(row.change_text)
    if change_text and "%" not in change_text:  # a percentage is not a price difference
        change_multiplier = multiplier
        if row.change_unit_text:
            change_multiplier = _change_multiplier(row.change_unit_text, spec, unit)
        try:
            change_value = parse_change(change_text, thousands=thousands)
        except NumberFormatError as exc:
            raise RowError(
                _l("cannot read the change “%(text)s”: %(error)s", text=change_text, error=exc)
            ) from exc
        change = round_price(change_value * change_multiplier)

    price_type_text = pick(row.price_type_text, "price_type")
    return NormalisedPrice(
        commodity_name=commodity,
        market_name=pick(row.market, "market"),
        price_type=classify_price_type(price_type_text),
        price=round_price((low + high) / 2 * multiplier),
        price_min=round_price(low * multiplier),
        price_max=round_price(high * multiplier),
        unit_code=unit_code,
        currency=currency,
        observed_on=observed_on,
        change=change,
        raw_text=row.raw or row.price_text,
        price_type_text=price_type_text,
        unit_text=unit_text,
        source_text=clean_text(row.source_text) or None,
        row_number=row.row_number,
    )


def normalise_all(
    rows: Iterable[RawRow],
    *,
    defaults: Mapping[str, str] | None = None,
    today: date,
    thousands: str | None = ".",
    scale: Decimal | None = None,
) -> tuple[list[NormalisedPrice], list[Rejection]]:
    """Normalise every row; a bad row becomes a ``Rejection`` and the rest go on."""
    prices: list[NormalisedPrice] = []
    rejected: list[Rejection] = []
    for row in rows:
        try:
            prices.append(
                normalise(row, defaults=defaults, today=today, thousands=thousands, scale=scale)
            )
        except RowError as exc:
            rejected.append(Rejection(row.row_number, row.raw or row.price_text, str(exc)))
    return prices, rejected


def normalise_collected(
    collected: Collected, *, today: date
) -> tuple[list[NormalisedPrice], list[Rejection]]:
    """Normalise what ``collect`` returned; rejections include the adapter's own."""
    prices, rejected = normalise_all(
        collected.result.rows,
        defaults=collected.defaults,
        today=today,
        thousands=collected.thousands,
        scale=collected.scale,
    )
    return prices, [*collected.result.rejected, *rejected]
