"""Tests for market.text: folding, slugs, and parsing numbers, ranges, changes, dates."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from market.text import (
    DateFormatError,
    NumberFormatError,
    PriceRange,
    contains_folded,
    fold,
    parse_change,
    parse_date,
    parse_number,
    parse_range,
    slugify,
)

# ---------------------------------------------------------------------------
# Vietnamese alphabet, built with the expected ASCII folding written out by
# hand so the property tests do not re-derive it with unicodedata.
# ---------------------------------------------------------------------------

_VOWELS = {"a": "a", "ă": "a", "â": "a", "e": "e", "ê": "e", "i": "i"}
_VOWELS |= {"o": "o", "ô": "o", "ơ": "o", "u": "u", "ư": "u", "y": "y"}
_CONSONANTS = {c: c for c in "bcdghklmnpqrstvxfjwz"} | {"đ": "d"}
_TONES = ["", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"]  # huyền sắc ngã hỏi nặng

_LETTERS: list[tuple[str, str]] = [(c, ascii_) for c, ascii_ in _CONSONANTS.items()]
_LETTERS += [
    (unicodedata.normalize("NFC", vowel + tone), ascii_)
    for vowel, ascii_ in _VOWELS.items()
    for tone in _TONES
]
_LETTERS += [(letter.upper(), ascii_) for letter, ascii_ in _LETTERS]
_WHITESPACE = [" ", "  ", "\t", "\n", "\u00a0", "\u202f"]


def test_alphabet_covers_all_precomposed_vietnamese_letters() -> None:
    # 12 vowels x 6 tones + 21 consonants, in both cases.
    assert len({letter for letter, _ in _LETTERS}) == 2 * (12 * 6 + 21)
    assert ("Ặ", "a") in _LETTERS and ("ự", "u") in _LETTERS and ("Đ", "d") in _LETTERS


_pieces = st.one_of(st.sampled_from(_LETTERS), st.sampled_from([(w, " ") for w in _WHITESPACE]))


@st.composite
def vietnamese_text(draw: st.DrawFn) -> tuple[str, str]:
    """Random Vietnamese text (NFC or NFD) and its expected folded form."""
    pieces = draw(st.lists(_pieces, max_size=40))
    raw = "".join(piece for piece, _ in pieces)
    form = draw(st.sampled_from(["NFC", "NFD"]))
    expected = " ".join("".join(ascii_ for _, ascii_ in pieces).lower().split())
    return unicodedata.normalize(form, raw), expected


# ---------------------------------------------------------------------------
# fold / slugify / contains_folded
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Cà phê", "ca phe"),
        ("Đắk Lắk", "dak lak"),
        ("  HỒ   Tiêu ", "ho tieu"),
        ("Quảng Trị", "quang tri"),
        ("Hồ tiêu\u00a0\tđen", "ho tieu den"),
        ("Cà phê", "ca phe"),  # decomposed input
        ("\u00d0ắk L\u00e2k", "dak lak"),  # legacy-encoding eth used for Đ
        ("İstanbul", "istanbul"),  # lower-casing adds a mark, which must go too
        ("", ""),
        ("   ", ""),
    ],
)
def test_fold_examples(text: str, expected: str) -> None:
    assert fold(text) == expected
    assert fold(fold(text)) == expected


@given(vietnamese_text())
def test_fold_vietnamese_is_ascii_expected_and_idempotent(case: tuple[str, str]) -> None:
    text, expected = case
    folded = fold(text)
    assert folded.isascii()
    assert folded == expected
    assert fold(folded) == folded


@given(st.text())
def test_fold_is_idempotent_on_any_text(text: str) -> None:
    assert fold(fold(text)) == fold(text)


def test_slugify_examples() -> None:
    assert slugify("Hợp tác xã Nông nghiệp Cam Lộ") == "hop-tac-xa-nong-nghiep-cam-lo"
    assert slugify("  Cà phê -- Đắk Lắk!! ") == "ca-phe-dak-lak"
    assert slugify("Giá 64.800 đ/kg") == "gia-64-800-d-kg"
    assert slugify("!!! ---") == ""
    assert slugify("") == ""


def test_slugify_cuts_without_trailing_dash() -> None:
    # The 8th character is the "-" between "hop-tac" and "xa".
    assert slugify("Hợp tác xã Nông nghiệp Cam Lộ", max_length=8) == "hop-tac"
    assert slugify("Hợp tác xã", max_length=9) == "hop-tac-x"
    assert len(slugify("Cà phê " * 50)) <= 80
    with pytest.raises(ValueError, match="max_length"):
        slugify("abc", max_length=0)


@given(st.text(), st.integers(min_value=1, max_value=100))
def test_slugify_output_is_url_safe(text: str, max_length: int) -> None:
    slug = slugify(text, max_length=max_length)
    assert len(slug) <= max_length
    assert slug == "" or re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug)


def test_contains_folded() -> None:
    assert contains_folded("Giá Cà Phê Robusta", "ca phe")
    assert contains_folded("Đắk Lắk", "DAK  lak")
    assert contains_folded("Hồ tiêu", "")
    assert not contains_folded("Hồ tiêu", "ca phe")
    assert not contains_folded("ca", "cà phê")


# ---------------------------------------------------------------------------
# parse_number
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "thousands", "expected"),
    [
        ("86.933", ".", "86933"),
        ("135,000", ",", "135000"),
        ("2,5", ".", "2.5"),
        ("1.234,5", ".", "1234.5"),
        ("1,2 triệu", ".", "1200000"),
        ("1,5 tỷ", ".", "1500000000"),
        ("1,5 tỉ", ".", "1500000000"),
        ("64 nghìn", ".", "64000"),
        ("64 ngàn", ".", "64000"),
        ("64k", ".", "64000"),
        ("64K", ".", "64000"),
        ("5 trăm", ".", "500"),
        ("3 trăm nghìn", ".", "300000"),
        ("1.000 tỷ", ".", "1000000000000"),
        ("1,2 trieu", ".", "1200000"),  # typed without accents
        ("+500", ".", "500"),
        ("-500", ".", "-500"),
        ("\u221264.800", ".", "-64800"),  # typographic minus
        ("  86.933\u00a0", ".", "86933"),
        ("\u00a086.933\u202f", ".", "86933"),
        ("86 933", ".", "86933"),
        ("86\u00a0933", ".", "86933"),
        ("1 234 567,5", ".", "1234567.5"),
        ("1 234 567.5", ",", "1234567.5"),
        ("1.234.567", ".", "1234567"),
        ("1,234,567.89", ",", "1234567.89"),
        ("135,000", ".", "135"),  # Vietnamese format: "," is the decimal mark
        ("0", ".", "0"),
        ("-0", ".", "0"),
        ("007", ".", "7"),
        ("2,50", ".", "2.5"),
        # Lone separator that cannot group thousands: a decimal mark written
        # the other way round.
        ("1.5", ".", "1.5"),
        ("1.5 triệu", ".", "1500000"),
        ("0.500", ".", "0.5"),
        ("1234.5", ".", "1234.5"),
        ("2,5", ",", "2.5"),
        # ...but one that does group thousands is a thousands separator.
        ("1.500", ".", "1500"),
    ],
)
def test_parse_number_examples(text: str, thousands: str | None, expected: str) -> None:
    result = parse_number(text, thousands=thousands)
    assert isinstance(result, Decimal)
    assert result == Decimal(expected)
    assert str(result) == expected  # normalised: no exponent, no trailing zeros


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234,5", "1234.5"),
        ("1,234.5", "1234.5"),
        ("1.500", "1500"),  # one separator + three digits: thousands
        ("1,500", "1500"),
        ("1.5", "1.5"),  # otherwise decimal
        ("1,5", "1.5"),
        ("12,3456", "12.3456"),
        ("1.234.567", "1234567"),
        ("1,234,567", "1234567"),
        ("1.234.567,89", "1234567.89"),
        ("86 933", "86933"),
        ("1,2 triệu", "1200000"),
    ],
)
def test_parse_number_infers_format(text: str, expected: str) -> None:
    assert parse_number(text, thousands=None) == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "thousands"),
    [
        ("", "."),
        ("   ", "."),
        ("abc", "."),
        ("1..2", "."),
        ("1,,2", ","),
        ("1,2,3,4.5.6", "."),
        ("1,2,3,4.5.6", ","),
        ("1,2,3,4.5.6", None),
        ("1.2.3", "."),
        ("1.23.456", "."),
        ("1,234.5", "."),  # English format where Vietnamese was promised
        ("1.234,5", ","),
        ("12.34,5", "."),
        (".5", "."),
        ("5.", "."),
        ("5,", "."),
        ("1.234,", "."),
        ("+", "."),
        ("-", "."),
        ("+-5", "."),
        ("5 đồng", "."),  # unit words are the caller's to strip
        ("64.800đ", "."),
        ("64 nghìn đồng", "."),
        ("nghìn", "."),
        ("5 nghìn trăm", "."),  # scale words must grow left to right
        ("5 triệu triệu", "."),
        ("8 6933", "."),  # space groups must have 3 digits
        ("86 93", "."),
        ("86 933.5", "."),  # space and "." both grouping
        ("1 234.567,5", "."),
        ("5-3", "."),
        ("١٢٣", "."),  # only ASCII digits
    ],
)
def test_parse_number_rejects(text: str, thousands: str | None) -> None:
    with pytest.raises(NumberFormatError) as excinfo:
        parse_number(text, thousands=thousands)
    assert repr(text) in str(excinfo.value)
    assert isinstance(excinfo.value, ValueError)


def test_parse_number_rejects_unknown_thousands_option() -> None:
    with pytest.raises(ValueError, match="thousands") as excinfo:
        parse_number("1 000", thousands=" ")
    assert not isinstance(excinfo.value, NumberFormatError)


def _format(value: Decimal, thousands: str, decimal_mark: str, *, trim: bool) -> str:
    """Print *value* (at most 2 places) the way a page would."""
    integer, fraction = f"{value:.2f}".split(".")
    grouped = f"{int(integer):,}".replace(",", thousands)
    if trim:
        fraction = fraction.rstrip("0")
    return grouped + (decimal_mark + fraction if fraction else "")


_amounts = st.decimals(
    min_value=0, max_value=10**12, places=2, allow_nan=False, allow_infinity=False
)


def test_format_helper() -> None:
    assert _format(Decimal("1234567.5"), ".", ",", trim=True) == "1.234.567,5"
    assert _format(Decimal("1234567.5"), ",", ".", trim=False) == "1,234,567.50"
    assert _format(Decimal("12"), " ", ",", trim=True) == "12"


@given(_amounts, st.booleans())
def test_vietnamese_format_round_trips(value: Decimal, trim: bool) -> None:
    text = _format(value, ".", ",", trim=trim)
    assert parse_number(text) == value
    assert parse_number(text, thousands=".") == value
    assert parse_number(text, thousands=None) == value


@given(_amounts, st.booleans())
def test_english_format_round_trips(value: Decimal, trim: bool) -> None:
    text = _format(value, ",", ".", trim=trim)
    assert parse_number(text, thousands=",") == value
    assert parse_number(text, thousands=None) == value


@given(_amounts, st.booleans(), st.sampled_from([" ", "\u00a0", "\u202f"]))
def test_space_grouped_format_round_trips(value: Decimal, trim: bool, space: str) -> None:
    assert parse_number(_format(value, space, ",", trim=trim)) == value


@given(_amounts, st.sampled_from([("trăm", 2), ("nghìn", 3), ("triệu", 6), ("tỷ", 9)]))
def test_scale_words_multiply_exactly(value: Decimal, scale: tuple[str, int]) -> None:
    word, exponent = scale
    text = f"{_format(value, '.', ',', trim=True)} {word}"
    assert parse_number(text) == value * 10**exponent


# ---------------------------------------------------------------------------
# parse_range
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("64.800 - 64.900", "64800", "64900"),
        ("64.800-64.900", "64800", "64900"),
        ("64.800 – 64.900", "64800", "64900"),
        ("64.800 — 64.900", "64800", "64900"),
        ("64.800 đến 64.900", "64800", "64900"),
        ("64.800 ~ 64.900", "64800", "64900"),
        ("từ 64.800 đến 64.900", "64800", "64900"),
        ("64.800", "64800", "64800"),
        ("1,2 - 1,5 triệu", "1200000", "1500000"),
        ("500 nghìn - 1,2 triệu", "500000", "1200000"),
        ("-5 - -3", "-5", "-3"),
        ("-5", "-5", "-5"),
    ],
)
def test_parse_range_examples(text: str, low: str, high: str) -> None:
    assert parse_range(text) == PriceRange(Decimal(low), Decimal(high))


def test_parse_range_english_format() -> None:
    assert parse_range("135,000 - 136,500", thousands=",") == PriceRange(
        Decimal(135000), Decimal(136500)
    )


@pytest.mark.parametrize(
    "text",
    ["64.900 - 64.800", "900 - 1,2 triệu", "", "64.800 -", "- 64.900 - ", "1 - 2 - 3", "a - b"],
)
def test_parse_range_rejects(text: str) -> None:
    with pytest.raises(NumberFormatError):
        parse_range(text)


def test_price_range_mid_and_invariant() -> None:
    assert PriceRange(Decimal(64800), Decimal(64900)).mid == Decimal(64850)
    assert PriceRange(Decimal(1), Decimal(2)).mid == Decimal("1.5")
    assert str(PriceRange(Decimal(64000), Decimal(66000)).mid) == "65000"
    with pytest.raises(ValueError):
        PriceRange(Decimal(2), Decimal(1))


@given(
    _amounts,
    _amounts,
    st.sampled_from([" - ", "-", " – ", "—", " ~ ", " đến "]),
)
def test_parse_range_round_trips(a: Decimal, b: Decimal, separator: str) -> None:
    low, high = sorted((a, b))
    text = _format(low, ".", ",", trim=True) + separator + _format(high, ".", ",", trim=True)
    result = parse_range(text)
    assert (result.low, result.high) == (low, high)


# ---------------------------------------------------------------------------
# parse_change
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "thousands", "expected"),
    [
        ("+500", ".", "500"),
        ("-1,200", ",", "-1200"),
        ("-1.200", ".", "-1200"),
        ("▲500", ".", "500"),
        ("▼500", ".", "-500"),
        ("▼ 1.200", ".", "-1200"),
        ("▼-500", ".", "-500"),
        ("▲+500", ".", "500"),
        ("0", ".", "0"),
        ("—", ".", "0"),
        ("-", ".", "0"),
        ("–", ".", "0"),
        (" - ", ".", "0"),
        ("500", ".", "500"),
        ("-1,5", ".", "-1.5"),
    ],
)
def test_parse_change_examples(text: str, thousands: str | None, expected: str) -> None:
    assert parse_change(text, thousands=thousands) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "▲", "▲-500", "▼+500", "abc", "--500", "+"])
def test_parse_change_rejects(text: str) -> None:
    with pytest.raises(NumberFormatError):
        parse_change(text)


# ---------------------------------------------------------------------------
# parse_date
# ---------------------------------------------------------------------------

_TODAY = date(2026, 4, 20)


@pytest.mark.parametrize(
    "text",
    [
        "17-04-2026",
        "17/04/2026",
        "17/4/2026",
        "17.04.2026",
        "2026-04-17",
        "17/04/26",
        "Ngày 17/04/2026",
        "Thứ Sáu, 17/04/2026",
        "Thứ sáu, ngày 17-04-2026 (cập nhật 10:30)",
        "Ngày 17 tháng 4 năm 2026",
        "17 tháng 04, 2026",
        "Giá cà phê hôm nay 17/4",
        "17/4",
        "từ 15/04 đến 17/04/2026",  # a full date beats a year-less one
        "Cập nhật 10.45 ngày 17/4",  # "10.45" is no day/month, so it is skipped
    ],
)
def test_parse_date_examples(text: str) -> None:
    assert parse_date(text, today=_TODAY) == date(2026, 4, 17)


def test_parse_date_year_less_looks_back() -> None:
    assert parse_date("30/12", today=date(2026, 1, 3)) == date(2025, 12, 30)
    assert parse_date("3/1", today=date(2026, 1, 3)) == date(2026, 1, 3)
    assert parse_date("4/1", today=date(2026, 1, 3)) == date(2025, 1, 4)
    assert parse_date("29/02", today=date(2024, 3, 1)) == date(2024, 2, 29)
    assert parse_date("17/4", today=datetime(2026, 4, 17, 8, 0)) == date(2026, 4, 17)


@pytest.mark.parametrize(
    ("text", "today"),
    [
        ("31/02/2026", _TODAY),
        ("30/02/2024", _TODAY),
        ("17/13/2026", _TODAY),
        ("00/04/2026", _TODAY),
        ("2026-02-30", _TODAY),
        ("31/02", _TODAY),
        ("29/02", date(2026, 4, 20)),  # no 29 February in the past year
        ("", _TODAY),
        ("hôm nay", _TODAY),
        ("2026", _TODAY),
        ("17 04 2026", _TODAY),
    ],
)
def test_parse_date_rejects(text: str, today: date) -> None:
    with pytest.raises(DateFormatError) as excinfo:
        parse_date(text, today=today)
    assert repr(text) in str(excinfo.value)
    assert isinstance(excinfo.value, ValueError)


_dates = st.dates(min_value=date(1000, 1, 1))


@given(_dates, st.sampled_from(["/", "-", "."]), st.booleans())
def test_parse_date_round_trips(day: date, separator: str, padded: bool) -> None:
    d, m = (f"{day.day:02d}", f"{day.month:02d}") if padded else (str(day.day), str(day.month))
    text = separator.join([d, m, str(day.year)])
    assert parse_date(text, today=_TODAY) == day
    assert parse_date(f"Ngày {text}", today=_TODAY) == day
    assert parse_date(day.isoformat(), today=_TODAY) == day


@given(st.dates(min_value=date(2, 1, 1)), st.dates(), st.sampled_from(["/", "-", "."]))
def test_parse_date_year_less_is_most_recent_past(today: date, day: date, sep: str) -> None:
    text = f"{day.day:02d}{sep}{day.month:02d}"
    if (day.month, day.day) == (2, 29):
        try:
            result = parse_date(text, today=today)
        except DateFormatError:
            # Only allowed when no 29 February lies in the past year.
            back = [today - timedelta(days=n) for n in range(366)]
            assert not any((x.month, x.day) == (2, 29) for x in back)
            return
    else:
        result = parse_date(text, today=today)
    assert (result.month, result.day) == (day.month, day.day)
    assert result <= today
    assert (today - result).days < 366
    # Most recent: the same day a year later would be in the future.
    assume(result.year < 9999)
    try:
        next_year = result.replace(year=result.year + 1)
    except ValueError:  # 29 February
        return
    assert next_year > today
