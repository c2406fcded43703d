"""Printed prices become exact numbers per base unit, and unreadable ones are refused."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from market.prices.normalise import (
    UNITS_CSV,
    NormalisedPrice,
    RowError,
    UnitSpec,
    _unit_lookup,
    classify_price_type,
    normalise,
    normalise_all,
    normalise_collected,
    parse_currency,
    parse_price_unit,
    units,
)
from market.prices.sources.base import Collected, ParseResult, RawRow, Rejection

TODAY = date(2026, 4, 20)


def row(price: str, unit: str | None = "đ/kg", **fields: str | None) -> RawRow:
    fields.setdefault("date_text", "17-04-2026")
    return RawRow(commodity="Cà phê", market="Đắk Lắk", price_text=price, unit_text=unit, **fields)


def price_of(raw: RawRow, **kwargs) -> NormalisedPrice:
    return normalise(raw, today=TODAY, **kwargs)


# ---------------------------------------------------------------------------
# parse_price_unit
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "currency", "scale", "unit"),
    [
        ("đ/kg", "VND", "1", "kg"),
        ("đồng/kg", "VND", "1", "kg"),
        ("Đồng/Kg", "VND", "1", "kg"),
        ("VNĐ/kg", "VND", "1", "kg"),
        ("VND/kg", "VND", "1", "kg"),
        ("nghìn đồng/kg", "VND", "1000", "kg"),
        ("ngàn đồng/kg", "VND", "1000", "kg"),
        ("1.000 đ/kg", "VND", "1000", "kg"),
        ("(1.000 đ/kg)", "VND", "1000", "kg"),
        ("1000đ/kg", "VND", "1000", "kg"),
        ("1,000 VND/kg", "VND", "1000", "kg"),
        ("k/kg", "VND", "1000", "kg"),
        ("triệu đồng/tấn", "VND", "1000000", "tan"),
        ("trđ/tấn", "VND", "1000000", "tan"),
        ("USD/tấn", "USD", "1", "tan"),
        ("USD/MT", "USD", "1", "tan"),
        ("USD/T", "USD", "1", "tan"),
        ("($/mt)", "USD", "1", "tan"),
        ("US cent/lb", "USD", "0.01", "lb"),
        ("USc/lb", "USD", "0.01", "lb"),
        ("đ/con", "VND", "1", "con"),
        ("đ/quả", "VND", "1", "qua"),
        ("đ/trái", "VND", "1", "qua"),
        ("đ/m3", "VND", "1", "m3"),
        ("đ/m³", "VND", "1", "m3"),
        ("đ/khối", "VND", "1", "m3"),
        ("đ/lít", "VND", "1", "lit"),
        ("đ/tạ", "VND", "1", "ta"),
        ("đ/tá", "VND", "1", "ta_dozen"),
        ("đ/yến", "VND", "1", "yen"),
        ("đ/chục", "VND", "1", "chuc"),
        ("đ/ký", "VND", "1", "kg"),
        ("đ/cân", "VND", "1", "kg"),
        ("đ/lạng", "VND", "1", "lang"),
        ("đ/cây", "VND", "1", "cay"),
        ("đ/kg (tươi)", "VND", "1", "kg"),
        ("đ/10 kg", "VND", "0.1", "kg"),
        ("kg", "VND", "1", "kg"),
        ("tấn", "VND", "1", "tan"),
        ("EUR/kg", "EUR", "1", "kg"),
    ],
)
def test_parse_price_unit_reads_common_spellings(
    text: str, currency: str, scale: str, unit: str
) -> None:
    spec = parse_price_unit(text)
    assert (spec.currency, spec.scale, spec.unit_code) == (currency, Decimal(scale), unit)


def test_parse_price_unit_without_a_known_unit_leaves_it_to_the_caller() -> None:
    assert parse_price_unit("đ/bó").unit_code is None
    assert parse_price_unit("nghìn đồng") == UnitSpec(
        currency="VND", scale=Decimal(1000), unit_code=None, explicit_currency=True
    )
    assert parse_price_unit(None) == UnitSpec()
    assert parse_price_unit("") == UnitSpec()
    with pytest.raises(RowError, match="cannot read the currency"):
        parse_price_unit("tiền/kg")


def test_unit_text_only_states_a_currency_when_it_names_one() -> None:
    assert parse_price_unit("kg").explicit_currency is False
    assert parse_price_unit("USD/kg").explicit_currency is True


def test_every_alias_points_at_a_unit_of_the_catalogue() -> None:
    with UNITS_CSV.open(encoding="utf-8") as fh:
        codes = {line["code"] for line in csv.DictReader(fh)}
    assert set(_unit_lookup().values()) <= codes
    assert units()["tan"].factor == 1000
    assert units()["bao"].factor is None


def test_parse_currency() -> None:
    assert parse_currency("VNĐ") == "VND"
    assert parse_currency("đồng") == "VND"
    assert parse_currency("USD") == "USD"
    assert parse_currency("US$") == "USD"
    assert parse_currency(" ") is None
    with pytest.raises(RowError, match="currency"):
        parse_currency("tiền mặt")


# ---------------------------------------------------------------------------
# classify_price_type
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Giá thu mua", "farm_gate"),
        ("giá tại vườn", "farm_gate"),
        ("Gia tai ruong", "farm_gate"),
        ("Giá tại ao", "farm_gate"),
        ("Giá lợn hơi tại trại", "farm_gate"),
        ("Giá nông dân bán", "farm_gate"),
        ("Giá bán buôn", "wholesale"),
        ("GIÁ BÁN SỈ", "wholesale"),
        ("Chợ đầu mối Bình Điền", "wholesale"),
        ("Giá bán lẻ", "retail"),
        ("Giá xuất khẩu", "export"),
        ("FOB Sài Gòn", "export"),
        ("CIF Rotterdam", "export"),
        ("retail", "retail"),
        ("farm_gate", "farm_gate"),
        ("Giá trung bình", None),
        ("", None),
        (None, None),
    ],
)
def test_classify_price_type(text: str | None, expected: str | None) -> None:
    assert classify_price_type(text) == expected


# ---------------------------------------------------------------------------
# normalise: the examples the brief fixes
# ---------------------------------------------------------------------------


def test_vietnamese_thousands_become_dong_per_kg() -> None:
    result = price_of(row("86.933"))
    assert result.price == Decimal(86933)
    assert (result.unit_code, result.currency) == ("kg", "VND")
    assert result.observed_on == date(2026, 4, 17)
    assert result.commodity_name == "Cà phê"
    assert result.market_name == "Đắk Lắk"


def test_a_range_gives_min_max_and_its_middle() -> None:
    result = price_of(row("64.800 - 64.900"))
    assert (result.price_min, result.price_max, result.price) == (64800, 64900, 64850)


def test_million_per_tonne_becomes_per_kg() -> None:
    assert price_of(row("1,2 triệu", "đ/tấn")).price == 1200


def test_thousand_dong_unit_multiplies() -> None:
    assert price_of(row("64,8", "nghìn đồng/kg")).price == 64800


def test_header_scale_from_the_caller_multiplies() -> None:
    raw = row("86,9", None)
    result = price_of(raw, defaults={"unit": "VND/kg"}, scale=Decimal(1000))
    assert result.price == 86900


def test_usd_per_tonne_stays_usd_per_kg() -> None:
    result = price_of(row("2.350", "USD/tấn"))
    assert (result.price, result.currency, result.unit_code) == (Decimal("2.35"), "USD", "kg")


def test_change_is_converted_like_the_price() -> None:
    result = price_of(row("6.200.000", "đ/tạ", change_text="+500"))
    assert (result.price, result.change) == (62000, 5)


def test_live_pig_per_kg_stays() -> None:
    result = price_of(row("62.000", "đ/kg"))
    assert result.price == 62000
    assert str(result.price) == "62000"


def test_year_less_date_is_the_latest_such_day() -> None:
    assert price_of(row("62.000", date_text="17/4")).observed_on == date(2026, 4, 17)


# ---------------------------------------------------------------------------
# normalise: more cases
# ---------------------------------------------------------------------------


def test_count_units_keep_their_base() -> None:
    eggs = price_of(row("32.000", "đ/chục"))
    assert (eggs.price, eggs.unit_code) == (3200, "qua")
    pig = price_of(row("1.500.000", "đ/con"))
    assert (pig.price, pig.unit_code) == (1500000, "con")


def test_volume_in_litres_goes_to_cubic_metres() -> None:
    result = price_of(row("25.000", "đ/lít"))
    assert (result.price, result.unit_code) == (25000000, "m3")


def test_unit_without_factor_is_kept_as_printed() -> None:
    result = price_of(row("350.000", "đ/bao"))
    assert (result.price, result.unit_code) == (350000, "bao")


def test_cents_per_pound_to_dollars_per_kg() -> None:
    result = price_of(row("250", "US cent/lb"))
    assert result.currency == "USD"
    # 2.50 / 0.45359237, to the price columns' four places: read again, it equals what is stored.
    assert result.price == Decimal("5.5116")


def test_defaults_fill_what_the_row_lacks() -> None:
    raw = RawRow(commodity="", market=None, price_text="5.450", date_text=None)
    result = price_of(
        raw,
        defaults={
            "commodity": "Lúa IR 50404",
            "market": "An Giang",
            "unit": "đồng/kg",
            "date": "08-04-2026",
            "price_type": "giá thu mua tại ruộng",
        },
    )
    assert result.commodity_name == "Lúa IR 50404"
    assert result.market_name == "An Giang"
    assert result.price == 5450
    assert result.observed_on == date(2026, 4, 8)
    assert result.price_type == "farm_gate"


def test_row_values_win_over_defaults() -> None:
    result = price_of(row("10", "nghìn đồng/kg"), defaults={"unit": "đ/kg", "market": "X"})
    assert (result.price, result.market_name) == (10000, "Đắk Lắk")


def test_today_default_date() -> None:
    raw = row("1.000", date_text=None)
    assert price_of(raw, defaults={"date": "hôm nay"}).observed_on == TODAY


def test_unit_printed_in_the_price_cell() -> None:
    result = price_of(row("86.900 đ/kg", None))
    assert (result.price, result.unit_code) == (86900, "kg")
    assert price_of(row("1,2 triệu đồng/tấn", None)).price == 1200


def test_currency_column_applies_when_the_unit_names_none() -> None:
    result = price_of(row("2.100", "tấn", currency_text="USD"))
    assert (result.currency, result.price) == ("USD", Decimal("2.1"))


def test_currency_column_contradicting_the_unit_is_refused() -> None:
    with pytest.raises(RowError, match="disagrees"):
        price_of(row("2.100", "USD/tấn", currency_text="VNĐ"))


def test_english_thousands() -> None:
    assert price_of(row("86,933", "đ/kg"), thousands=",").price == 86933


def test_percentage_change_is_not_a_price_difference() -> None:
    assert price_of(row("86.900", change_text="+1,2%")).change is None


def test_no_change_dash_is_zero_and_arrows_work() -> None:
    assert price_of(row("86.900", change_text="-")).change == 0
    assert price_of(row("86.900", change_text="▼1.200")).change == -1200


def test_change_in_its_own_unit() -> None:
    raw = row("86,9", "1.000 đ/kg", change_text="+500", change_unit_text="VND/kg")
    result = price_of(raw)
    assert (result.price, result.change) == (86900, 500)


def test_raw_text_is_kept_for_provenance() -> None:
    raw = row("86.933", raw="Cà phê | Đắk Lắk | 17-04-2026 | 86.933")
    assert price_of(raw).raw_text == "Cà phê | Đắk Lắk | 17-04-2026 | 86.933"
    assert price_of(row("86.933")).raw_text == "86.933"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (row("liên hệ"), "cannot read the price"),
        (row("-"), "no price"),
        (row(""), "no price"),
        (row("0"), "not positive"),
        (row("-5.000"), "not positive"),
        (row("86.900", None), "no unit"),
        (row("86.900", "đ/bó"), "unknown unit"),
        (row("86.900", date_text=None), "no date"),
        (row("86.900", date_text="31/02/2026"), "cannot read the date"),
        (row("86.900", date_text="17/05/2026"), "future"),
        (row("86.900", change_text="tăng mạnh"), "cannot read the change"),
        (RawRow(commodity=" ", market=None, price_text="1.000", unit_text="đ/kg"), "commodity"),
        (row("1 tỷ tỷ"), "price"),
    ],
)
def test_unreadable_rows_raise_row_error_with_a_reason(raw: RawRow, reason: str) -> None:
    with pytest.raises(RowError, match=reason):
        price_of(raw)


def test_normalise_all_keeps_going_after_a_bad_row() -> None:
    rows = [row("86.900", row_number=1), row("lỗi", row_number=2, raw="x | lỗi"), row("1.000")]
    prices, rejected = normalise_all(rows, today=TODAY)
    assert [p.price for p in prices] == [86900, 1000]
    assert rejected == [Rejection(2, "x | lỗi", rejected[0].reason)]
    assert "cannot read the price" in rejected[0].reason


def test_reasons_are_translated_in_the_app_and_english_without_it(ctx) -> None:
    """In the app (and its jobs) the reasons officials read are Vietnamese; outside it, and
    under ``force_locale("en")``, they stay English."""
    from flask_babel import force_locale

    from market.prices.sources import html_table

    with pytest.raises(RowError) as error:
        price_of(row("86.900", "đ/bó"))
    assert str(error.value) == "không nhận ra đơn vị “đ/bó”"
    with force_locale("en"):
        assert str(error.value) == "unknown unit “đ/bó”"
    rows = [row("86.900", date_text="17/05/2026", row_number=4)]
    _prices, rejected = normalise_all(rows, today=TODAY)
    assert rejected[0].reason == "ngày 2026-05-17 (“17/05/2026”) là ngày trong tương lai"
    page = "<table><tr><th>Mặt hàng</th><th>Giá</th></tr><tr><td>Tiêu</td><td>-</td></tr></table>"
    result = html_table.parse(page, settings={}, today=TODAY)
    assert [r.reason for r in result.rejected] == ["không ghi giá"]  # "no price printed"


def test_normalise_collected_passes_page_defaults_and_scale() -> None:
    result = ParseResult(
        rows=[RawRow(commodity="Tiêu", market="Gia Lai", price_text="148", date_text="17/4")],
        rejected=[Rejection(9, "x", "no price printed")],
    )
    collected = Collected(
        pages=["http://x"], result=result, defaults={"unit": "VND/kg"}, scale=Decimal(1000)
    )
    prices, rejected = normalise_collected(collected, today=TODAY)
    assert [p.price for p in prices] == [148000]
    assert [r.row_number for r in rejected] == [9]


# ---------------------------------------------------------------------------
# Property: every spelling and scale of one price means the same per-kg value
# ---------------------------------------------------------------------------


def _vn(value: Decimal) -> str:
    """Print *value* the Vietnamese way: "." between thousands, "," before decimals."""
    text = format(value.normalize(), "f")
    integer, _, fraction = text.partition(".")
    grouped = f"{int(integer):,}".replace(",", ".")
    return grouped + ("," + fraction if fraction else "")


# (unit text, how many đồng/kg one printed unit of that spelling stands for)
SPELLINGS = [
    ("đ/kg", Decimal(1)),
    ("đồng/kg", Decimal(1)),
    ("VNĐ/kg", Decimal(1)),
    ("đ/ký", Decimal(1)),
    ("nghìn đồng/kg", Decimal(1000)),
    ("ngàn đồng/kg", Decimal(1000)),
    ("1.000 đ/kg", Decimal(1000)),
    ("(1.000 đ/kg)", Decimal(1000)),
    ("1000đ/kg", Decimal(1000)),
    ("đ/yến", Decimal("0.1")),
    ("đ/tạ", Decimal("0.01")),
    ("đ/tấn", Decimal("0.001")),
    ("nghìn đồng/tấn", Decimal(1)),
    ("triệu đồng/tấn", Decimal(1000)),
    ("đ/lạng", Decimal(10)),
]


@given(
    per_kg=st.integers(min_value=1, max_value=5_000_000),
    spelling=st.sampled_from(SPELLINGS),
)
def test_any_spelling_normalises_to_the_same_price_per_kg(
    per_kg: int, spelling: tuple[str, Decimal]
) -> None:
    unit, worth = spelling
    printed = Decimal(per_kg) / worth
    result = normalise(row(_vn(printed), unit), today=TODAY)
    assert result.price == per_kg
    assert result.unit_code == "kg"


@given(
    per_kg=st.integers(min_value=1, max_value=5_000_000),
    scale=st.sampled_from([Decimal(1), Decimal(10), Decimal(1000)]),
    spread=st.integers(min_value=0, max_value=1000),
)
def test_caller_scale_and_ranges_agree(per_kg: int, scale: Decimal, spread: int) -> None:
    low, high = Decimal(per_kg) / scale, Decimal(per_kg + spread) / scale
    text = f"{_vn(low)} - {_vn(high)}" if spread else _vn(low)
    result = normalise(row(text, "đ/kg"), today=TODAY, scale=scale)
    assert (result.price_min, result.price_max) == (per_kg, per_kg + spread)
    assert result.price == Decimal(2 * per_kg + spread) / 2
