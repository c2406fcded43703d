"""Vietnamese text helpers: accent folding, slugs, numbers, prices and dates.

Market pages print numbers the Vietnamese way ("86.933" is eighty-six
thousand, "2,5" is two and a half) and users search without diacritics, so
these helpers turn what scrapers and users type into comparable values.
Standard library only; every parser raises a ``ValueError`` subclass that
names the offending text instead of guessing silently.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

__all__ = [
    "DateFormatError",
    "NumberFormatError",
    "PriceRange",
    "contains_folded",
    "fold",
    "parse_change",
    "parse_date",
    "parse_number",
    "parse_range",
    "slugify",
]


class NumberFormatError(ValueError):
    """Text cannot be read as a number (or a range/change of numbers)."""


class DateFormatError(ValueError):
    """Text holds no date, or one that does not exist on the calendar."""


# ---------------------------------------------------------------------------
# Folding and slugs
# ---------------------------------------------------------------------------

# đ/Đ are letters of their own, not d plus a mark, so NFD leaves them alone.
# U+00D0/U+00F0 (eth) look identical and turn up in text converted from legacy
# Vietnamese encodings, so they fold to "d" as well.
_D_MAP = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"})


def fold(text: str) -> str:
    """Fold *text* for accent- and case-insensitive search.

    Users type "ca phe" for "Cà phê"; folding both sides lets them match.
    Lower-casing happens before decomposition so that letters whose
    lower-case form carries a mark (e.g. "İ") lose it too, which keeps the
    function idempotent. Letters without a decomposition (e.g. "ø") are kept.
    """
    return " ".join(strip_marks(text.lower()).split())


def strip_marks(text: str) -> str:
    """*text* without its diacritics, case kept: "Sở Công Thương" → "So Cong Thuong"."""
    decomposed = unicodedata.normalize("NFD", text.translate(_D_MAP))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def slugify(text: str, *, max_length: int = 80) -> str:
    """Make an ASCII URL slug such as "hop-tac-xa-nong-nghiep-cam-lo".

    Anything that is not ``[a-z0-9]`` after folding becomes a separator, so
    the result is always safe in a URL path. The slug is cut at *max_length*
    without leaving a dangling "-"; it may be empty, and callers that need a
    non-empty slug must provide a fallback.
    """
    if max_length < 1:
        raise ValueError(f"max_length must be at least 1, got {max_length}")
    slug = re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")
    return slug[:max_length].rstrip("-")


def contains_folded(haystack: str, needle: str) -> bool:
    """Tell whether *needle* occurs in *haystack*, ignoring accents and case."""
    return fold(needle) in fold(haystack)


# ---------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------

# Scale words after a number, as powers of ten (keys are folded spellings, so
# "tỷ", "tỉ", "ty" and "ti" all match).
_MULTIPLIERS = {
    "tram": 2,
    "k": 3,
    "nghin": 3,
    "ngan": 3,
    "trieu": 6,
    "ty": 9,
    "ti": 9,
}
_MULTIPLIER_AT_END = re.compile(
    rf"(?:(?<=[0-9])|(?<= ))({'|'.join(sorted(_MULTIPLIERS, key=len, reverse=True))})$"
)
_SIGNS = {"+": 0, "-": 1, "\u2212": 1}  # U+2212 is the typographic minus
_SPACE_GROUPED = re.compile(r"([1-9][0-9]{0,2}(?: [0-9]{3})+)(?:([.,])([0-9]+))?")


def _grouping(separator: str) -> re.Pattern[str]:
    """Pattern for an integer written with *separator* between thousands."""
    return re.compile(rf"[1-9][0-9]{{0,2}}(?:{re.escape(separator)}[0-9]{{3}})+")


_GROUPED = {".": _grouping("."), ",": _grouping(",")}


def _number_error(text: str, reason: str) -> NumberFormatError:
    return NumberFormatError(f"cannot read {text!r} as a number: {reason}")


def _split_digits(body: str, thousands: str | None, text: str) -> tuple[str, str]:
    """Split a separator-laden *body* into integer and fraction digits."""
    if " " in body:
        match = _SPACE_GROUPED.fullmatch(body)
        if match is None:
            raise _number_error(text, "space-separated digit groups must have 3 digits")
        integer, mark, fraction = match.groups()
        if mark is not None and mark == thousands:
            raise _number_error(text, f"{mark!r} cannot group thousands after spaces")
        return integer.replace(" ", ""), fraction or ""

    if thousands is None:
        if "." in body and "," in body:
            # Both present: the last one is the decimal mark.
            thousands = "," if body.rfind(".") > body.rfind(",") else "."
        else:
            # One kind: decide per the lone-separator rule below.
            thousands = "," if "," in body else "."
    decimal_mark = "," if thousands == "." else "."

    if body.count(decimal_mark) > 1:
        raise _number_error(text, f"more than one decimal mark {decimal_mark!r}")
    if decimal_mark in body:
        integer, fraction = body.split(decimal_mark)
        if not fraction or thousands in fraction:
            raise _number_error(text, f"{thousands!r} after the decimal mark")
        if thousands in integer and not _GROUPED[thousands].fullmatch(integer):
            raise _number_error(text, f"{thousands!r} does not group thousands")
        if not integer:
            raise _number_error(text, "no digits before the decimal mark")
        return integer.replace(thousands, ""), fraction

    if _GROUPED[thousands].fullmatch(body):
        return body.replace(thousands, ""), ""
    if body.count(thousands) == 1:
        # A lone separator that cannot be a thousands separator ("1.5",
        # "0.500", "1234.5") is a decimal mark written the other way round.
        integer, fraction = body.split(thousands)
        if integer and fraction:
            return integer, fraction
    raise _number_error(text, f"{thousands!r} does not group thousands")


def _parse_parts(folded: str, thousands: str | None, text: str) -> tuple[Decimal, int | None]:
    """Read *folded* (already folded) as a number.

    Returns the value without its scale words and the power of ten they
    stand for (``None`` when there are none), so ranges can share a scale.
    """
    if thousands not in (".", ",", None):
        raise ValueError(f"thousands must be '.', ',' or None, got {thousands!r}")
    rest = folded
    sign = 0
    if rest[:1] in _SIGNS:
        sign = _SIGNS[rest[0]]
        rest = rest[1:].lstrip()

    # Scale words are read right to left; Vietnamese compounds ascend left to
    # right ("trăm nghìn" = 10^5, "nghìn tỷ" = 10^12).
    exponents: list[int] = []
    while (match := _MULTIPLIER_AT_END.search(rest)) is not None:
        exponent = _MULTIPLIERS[match.group(1)]
        if exponents and exponent >= exponents[-1]:
            raise _number_error(text, "scale words must grow from left to right")
        exponents.append(exponent)
        rest = rest[: match.start()].rstrip()

    if not re.fullmatch(r"[0-9](?:[0-9., ]*[0-9])?", rest):
        if not rest:
            raise _number_error(text, "no digits")
        raise _number_error(text, "only digits, '.', ',' and spaces may form a number")
    if re.fullmatch(r"[0-9]+", rest):
        integer, fraction = rest, ""
    else:
        integer, fraction = _split_digits(rest, thousands, text)

    digits = tuple(int(ch) for ch in integer + fraction)
    value = Decimal((sign, digits, -len(fraction)))
    return value, (sum(exponents) if exponents else None)


def _normalise(value: Decimal) -> Decimal:
    """Drop trailing fractional zeros and any exponent, exactly.

    ``Decimal.normalize`` would print 64000 as "6.4E+4"; this keeps plain
    notation ("64000", "2.5") and turns -0 into 0 without context rounding.
    """
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite by construction
    digit_list = list(digits)
    while exponent < 0 and len(digit_list) > 1 and digit_list[-1] == 0:
        digit_list.pop()
        exponent += 1
    if exponent > 0:
        digit_list.extend([0] * exponent)
        exponent = 0
    if not any(digit_list):
        return Decimal(0)
    return Decimal((sign, tuple(digit_list), exponent))


def _scale(value: Decimal, exponent: int | None) -> Decimal:
    """Multiply by 10**exponent exactly (no context precision involved)."""
    sign, digits, own = value.as_tuple()
    assert isinstance(own, int)
    return _normalise(Decimal((sign, digits, own + (exponent or 0))))


def _number(folded: str, thousands: str | None, text: str) -> Decimal:
    """Parse already-folded text; errors still quote the caller's *text*."""
    value, exponent = _parse_parts(folded, thousands, text)
    return _scale(value, exponent)


def parse_number(text: str, *, thousands: str | None = ".") -> Decimal:
    """Parse a number as printed on Vietnamese market pages.

    *thousands* is "." for Vietnamese format (``"1.234,5"``), "," for English
    format (``"1,234.5"``) or ``None`` to infer: when both marks occur the
    last one is the decimal mark, and a lone mark is a thousands separator
    only when it groups like one. Spaces may group thousands ("86 933").

    Lone-separator rule: pages often write the decimal mark the other way
    round, so a single thousands separator that cannot group thousands (not
    exactly 3 digits after it, or 0 or more than 3 digits before it) is read
    as the decimal mark: "1.5" and "1234.5" are 1.5 and 1234.5 even in
    Vietnamese format, while "1.500" is 1500.

    A sign may lead and scale words may follow: trăm (10^2), nghìn/ngàn/k
    (10^3), triệu (10^6), tỷ/tỉ (10^9), also unaccented. Currency and unit
    words are not accepted; strip them first. Returns an exact ``Decimal``
    without trailing fractional zeros or exponent, never a float.
    """
    return _number(fold(text), thousands, text)


# ---------------------------------------------------------------------------
# Ranges and changes
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceRange:
    """A closed price range; a single quoted price has ``low == high``."""

    low: Decimal
    high: Decimal

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError(f"low {self.low} is above high {self.high}")

    @property
    def mid(self) -> Decimal:
        """Midpoint, used where one representative price is needed."""
        return _normalise((self.low + self.high) / 2)


# A separator only counts after a digit or a letter, so a leading "-" stays a
# sign ("-5 - -3" is -5 to -3). "den" is the folded "đến".
_RANGE_SEPARATOR = re.compile(r"(?<=\w) ?(?:[-\u2013\u2014~]|\bden\b) ?")


def parse_range(text: str, *, thousands: str | None = ".") -> PriceRange:
    """Parse "64.800 - 64.900" (also "–", "—", "~", "đến") into a range.

    A leading "từ" is allowed ("từ 64.800 đến 64.900"). When only the high
    end carries a scale word ("1,2 - 1,5 triệu") the low end shares it.
    """
    folded = fold(text)
    if folded.startswith("tu "):
        folded = folded[3:]
    match = _RANGE_SEPARATOR.search(folded)
    if match is None:
        value = _number(folded, thousands, text)
        return PriceRange(value, value)
    low_text, high_text = folded[: match.start()], folded[match.end() :]
    low, low_exponent = _parse_parts(low_text, thousands, text)
    high, high_exponent = _parse_parts(high_text, thousands, text)
    if low_exponent is None:
        low_exponent = high_exponent
    low, high = _scale(low, low_exponent), _scale(high, high_exponent)
    if low > high:
        raise NumberFormatError(f"range {text!r} runs backwards: {low} > {high}")
    return PriceRange(low, high)


_UP_ARROWS = "▲△↑⬆"
_DOWN_ARROWS = "▼▽↓⬇"
_NO_CHANGE = {"-", "\u2013", "\u2014", "\u2212"}


def parse_change(text: str, *, thousands: str | None = ".") -> Decimal:
    """Parse a price change such as "+500", "-1.200", "▲500" or "▼500".

    A dash on its own ("-", "–", "—") is how tables print "no change", so it
    is 0. An arrow sets the direction; a sign next to it must agree with it.
    """
    folded = fold(text)
    if folded in _NO_CHANGE:
        return Decimal(0)
    arrow = folded[:1]
    if arrow not in _UP_ARROWS and arrow not in _DOWN_ARROWS:
        return _number(folded, thousands, text)
    rest = folded[1:].lstrip()
    down = arrow in _DOWN_ARROWS
    if rest[:1] in _SIGNS and _SIGNS[rest[0]] != down:
        raise NumberFormatError(f"change {text!r} has an arrow and a sign that disagree")
    if not rest:
        raise NumberFormatError(f"change {text!r} has an arrow but no number")
    value = abs(_number(rest, thousands, text))
    return -value if down and value else value


# ---------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------

# Searched in folded text. Day-first forms use one separator throughout; the
# "thang"/"nam" form is the folded "17 tháng 4 năm 2026".
_FULL_DATE = re.compile(
    r"(?<![0-9])(?:"
    r"(?P<iy>[0-9]{4})(?P<isep>[-/.])(?P<im>[0-9]{1,2})(?P=isep)(?P<id>[0-9]{1,2})"
    r"|(?P<d>[0-9]{1,2})(?P<sep>[-/.])(?P<m>[0-9]{1,2})(?P=sep)(?P<y>[0-9]{4}|[0-9]{2})"
    r"|(?P<wd>[0-9]{1,2}) ?thang ?(?P<wm>[0-9]{1,2}),? ?(?:nam )?(?P<wy>[0-9]{4})"
    r")(?![0-9])"
)
_SHORT_DATE = re.compile(
    r"(?<![0-9])(?:"
    r"(?P<d>[0-9]{1,2})[-/.](?P<m>[0-9]{1,2})(?![-/.]?[0-9])"
    r"|(?P<wd>[0-9]{1,2}) ?thang ?(?P<wm>[0-9]{1,2})(?![0-9])"
    r")"
)


def _make_date(year: int, month: int, day: int, text: str) -> date:
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise DateFormatError(
            f"{text!r} names {day:02d}/{month:02d}/{year:04d}, which is not a real date"
        ) from exc


def parse_date(text: str, *, today: date) -> date:
    """Find the date in *text*, e.g. "Thứ Sáu, ngày 17/04/2026".

    Accepts dd/mm/yyyy with "/", "-" or "." (day and month may be one digit),
    yyyy-mm-dd, "17 tháng 4 năm 2026", and two-digit years (2000 + yy). The
    first full date in the text wins, else the first real year-less one. A
    date without a year ("17/4") is the most recent such day not after
    *today*, which is what a price page means; 29/02 with no leap day in the
    past year raises instead of reaching back years. Impossible dates
    (31/02/2026, 31/02) raise ``DateFormatError``.
    """
    if isinstance(today, datetime):
        today = today.date()
    folded = fold(text)

    match = _FULL_DATE.search(folded)
    if match is not None:
        if match["iy"] is not None:
            parts = match["iy"], match["im"], match["id"]
        elif match["y"] is not None:
            year = match["y"] if len(match["y"]) == 4 else f"20{match['y']}"
            parts = year, match["m"], match["d"]
        else:
            parts = match["wy"], match["wm"], match["wd"]
        year_n, month_n, day_n = (int(part) for part in parts)
        return _make_date(year_n, month_n, day_n, text)

    # Year-less candidates that are not a day and month ("10.30" as a time or
    # "64.80" as a price) are skipped; only if none is real does it raise.
    short = [(int(m["d"] or m["wd"]), int(m["m"] or m["wm"])) for m in _SHORT_DATE.finditer(folded)]
    if not short:
        raise DateFormatError(f"no date found in {text!r}")
    # Check against a leap year so 29/02 passes and 31/02 does not.
    real = [(d, m) for d, m in short if 1 <= m <= 12 and 1 <= d <= calendar.monthrange(2000, m)[1]]
    if not real:
        day_n, month_n = short[0]
        raise DateFormatError(
            f"{text!r} names day {day_n} of month {month_n}, which does not exist"
        )
    day_n, month_n = real[0]
    for year_n in (today.year, today.year - 1):
        if year_n < 1 or ((month_n, day_n) == (2, 29) and not calendar.isleap(year_n)):
            continue
        candidate = date(year_n, month_n, day_n)
        if candidate <= today:
            return candidate
    raise DateFormatError(f"{text!r} has no year and no such day in the year up to {today}")
