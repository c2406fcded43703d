"""The configurable HTML table adapter on our own fixture pages of common Vietnamese layouts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from market.prices.fetch import Fetcher
from market.prices.normalise import normalise_collected
from market.prices.sources import html_table
from market.prices.sources.base import Collected, ParseResult, SourceError

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = date(2026, 4, 17)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def parse(html: str, **settings) -> ParseResult:
    return html_table.parse(html, settings=settings, today=TODAY)


def normalised(result: ParseResult, **settings):
    collected = Collected(
        pages=[],
        result=result,
        defaults=result.defaults,
        thousands=settings.get("thousands", "."),
        scale=result.scale,
    )
    return normalise_collected(collected, today=TODAY)


SCT_SETTINGS = {
    "date_from_heading": {"selector": "h2.title", "regex": r"ngày (\d{1,2}/\d{1,2}/\d{4})"},
}


# ---------------------------------------------------------------------------
# A provincial Sở Công Thương daily table: rowspans, section rows, a unit column
# ---------------------------------------------------------------------------


def test_sct_table_carries_rowspans_down_and_skips_section_rows() -> None:
    result = parse(fixture("sct_daily_prices.html"), **SCT_SETTINGS)
    got = [(r.commodity, r.market, r.price_text, r.unit_text, r.change_text) for r in result.rows]
    assert got == [
        ("Gạo tẻ thường", "Chợ Đông Hà", "15.000", "đ/kg", "-"),
        ("Gạo tẻ thường", "Chợ Quảng Trị", "14.500 - 15.000", "đ/kg", "+500"),
        ("Gạo tẻ thường", "Chợ Hồ Xá", "14.000", "đ/kg", None),
        ("Gạo nếp", "Chợ Đông Hà", "28.000", "đ/kg", "-1.000"),
        ("Thịt lợn hơi", "Chợ Đông Hà", "62.000", "đ/kg", "+2.000"),
        ("Trứng gà công nghiệp", "Chợ Đông Hà", "32.000", "đ/chục", None),
        ("Cá nục", "Chợ Đông Hà", "liên hệ", "đ/kg", None),
    ]
    assert {r.date_text for r in result.rows} == {"17/4/2026"}
    assert result.rows[1].raw == "1 | Gạo tẻ thường | đ/kg | Chợ Quảng Trị | 14.500 - 15.000 | +500"
    assert result.rows[1].row_number == 5


def test_sct_table_rejects_a_dash_price_but_skips_the_empty_row() -> None:
    result = parse(fixture("sct_daily_prices.html"), **SCT_SETTINGS)
    assert [(r.row_number, r.reason) for r in result.rejected] == [(10, "no price printed")]
    assert "Chợ Khe Sanh" in result.rejected[0].raw


def test_sct_table_price_type_comes_from_the_price_header() -> None:
    result = parse(fixture("sct_daily_prices.html"), **SCT_SETTINGS)
    assert result.defaults["price_type"] == "Giá bán lẻ (đồng)"
    assert result.scale is None
    prices, rejected = normalised(result)
    assert [(p.commodity_name, p.market_name, p.price, p.unit_code) for p in prices][:2] == [
        ("Gạo tẻ thường", "Chợ Đông Hà", 15000, "kg"),
        ("Gạo tẻ thường", "Chợ Quảng Trị", 14750, "kg"),
    ]
    eggs = next(p for p in prices if p.commodity_name.startswith("Trứng"))
    assert (eggs.price, eggs.unit_code) == (3200, "qua")
    assert {p.price_type for p in prices} == {"retail"}
    assert {p.observed_on for p in prices} == {date(2026, 4, 17)}
    assert rejected[0].reason == "no price printed"
    assert "cannot read the price “liên hệ”" in rejected[1].reason


def test_explicit_columns_by_header_and_index() -> None:
    settings = {
        **SCT_SETTINGS,
        "columns": {"commodity": "tên hàng", "market": 3, "price": "giá bán lẻ", "unit": "đvt"},
    }
    result = parse(fixture("sct_daily_prices.html"), **settings)
    assert result.rows[0].commodity == "Gạo tẻ thường"
    assert result.rows[0].market == "Chợ Đông Hà"
    # unmapped fields are still found under their usual headers
    assert result.rows[1].change_text == "+500"


def test_skip_rows_matching() -> None:
    result = parse(
        fixture("sct_daily_prices.html"), skip_rows_matching="khe sanh|ca nuc", **SCT_SETTINGS
    )
    assert result.rejected == []
    assert "Cá nục" not in {r.commodity for r in result.rows}


def test_fixed_market_fills_a_page_about_one_market() -> None:
    html = """<table><tr><th>Mặt hàng</th><th>Giá (đ/kg)</th><th>Ngày</th></tr>
    <tr><td>Lúa tươi</td><td>7.200</td><td>17/4/2026</td></tr></table>"""
    result = parse(html, fixed={"market": "Chợ Đông Hà"})
    assert result.rows[0].market == "Chợ Đông Hà"
    assert result.defaults["unit"] == "VND/kg"
    prices, _ = normalised(result)
    assert prices[0].price == 7200


# ---------------------------------------------------------------------------
# A news site: "(1.000 đ/kg)" header, change column "+500" in đ/kg, a second table
# ---------------------------------------------------------------------------

COFFEE = {
    "table": "table.coffee-price",
    "fixed": {"commodity": "Cà phê nhân xô", "date": "17/04/2026"},
    "skip_rows_matching": "tỷ giá",
}


def test_news_table_detects_the_thousand_dong_header() -> None:
    result = parse(fixture("news_coffee_pepper.html"), **COFFEE)
    assert result.scale == Decimal(1000)
    assert result.defaults == {"unit": "VND/kg", "currency": "VND"}
    assert [(r.market, r.price_text, r.change_text) for r in result.rows] == [
        ("Đắk Lắk", "86,9", "+500"),
        ("Lâm Đồng", "86,6", "+400"),
        ("Gia Lai", "86,9", "-"),
        ("Quảng Trị (Khe Sanh)", "85,5", "-1.200"),
    ]
    prices, rejected = normalised(result)
    assert rejected == []
    assert [(p.price, p.change) for p in prices] == [
        (86900, 500),
        (86600, 400),
        (86900, 0),
        (85500, -1200),
    ]


def test_scale_given_as_a_number_overrides_detection() -> None:
    result = parse(fixture("news_coffee_pepper.html"), **{**COFFEE, "scale": "1.000"})
    assert result.scale == Decimal(1000)
    result = parse(fixture("news_coffee_pepper.html"), **{**COFFEE, "scale": 1})
    assert result.scale == Decimal(1)


def test_news_pepper_table_without_th_and_unit_above_the_table() -> None:
    settings = {
        "table": "table.pepper-price",
        "columns": {"market": "tỉnh", "price": "giá", "change": "thay đổi"},
        "fixed": {"commodity": "Hồ tiêu đen", "date": "17/4"},
    }
    result = parse(fixture("news_coffee_pepper.html"), **settings)
    assert result.defaults["unit"] == "VND/kg"
    assert result.defaults["price_type"] == "Giá thu mua hôm nay"
    prices, rejected = normalised(result)
    assert rejected == []
    assert [(p.market_name, p.price, p.change, p.price_type) for p in prices] == [
        ("Bà Rịa - Vũng Tàu", 149000, -1200, "farm_gate"),
        ("Bình Phước", 148500, -1000, "farm_gate"),
        ("Quảng Trị (Vĩnh Linh)", 146000, 0, "farm_gate"),
    ]


# ---------------------------------------------------------------------------
# data-price attributes and a date in the heading
# ---------------------------------------------------------------------------

ATTR = {
    "attributes": {"price": "data-price"},
    "date_from_heading": {"selector": "h1.page-title", "regex": r"ngày (\d{1,2}/\d{1,2}/\d{4})"},
    "skip_rows_matching": "quảng cáo",
}


def test_attribute_values_and_heading_date() -> None:
    result = parse(fixture("attr_prices.html"), **ATTR)
    assert [(r.commodity, r.price_text, r.unit_text, r.date_text) for r in result.rows] == [
        ("Cà phê chè Khe Sanh (quả tươi)", "14500", "đ/kg", "16/04/2026"),
        ("Tiêu Vĩnh Linh", "152000,5", "đ/kg", "16/04/2026"),
        ("Gỗ keo tròn", "1250000", "đ/tấn", "16/04/2026"),
    ]
    assert [(r.row_number, r.reason) for r in result.rejected] == [(5, "no price printed")]
    prices, _ = normalised(result)
    assert [(p.price, p.price_type) for p in prices] == [
        (14500, "farm_gate"),
        (Decimal("152000.5"), "wholesale"),
        (1250, "farm_gate"),
    ]


def test_heading_date_missing_is_a_layout_change() -> None:
    settings = {**ATTR, "date_from_heading": {"selector": "h1", "regex": r"tuần (\d+)"}}
    with pytest.raises(SourceError, match="no heading"):
        parse(fixture("attr_prices.html"), **settings)


# ---------------------------------------------------------------------------
# Other layouts and errors
# ---------------------------------------------------------------------------


def test_rows_selector_for_div_layouts() -> None:
    html = """<div class="list">
      <div class="item"><span>Chuối già Nam Mỹ</span><span>Hướng Hóa</span>
        <span>9.500</span><span>đ/kg</span><span>16/04/2026</span></div>
      <div class="item"><span>Bơ sáp</span><span>Hướng Hóa</span>
        <span>35.000</span><span>đ/kg</span><span>16/04/2026</span></div>
    </div>"""
    settings = {
        "rows": "div.list > div.item",
        "columns": {"commodity": 0, "market": 1, "price": 2, "unit": 3, "date": 4},
    }
    result = parse(html, **settings)
    assert [(r.commodity, r.price_text, r.row_number) for r in result.rows] == [
        ("Chuối già Nam Mỹ", "9.500", 1),
        ("Bơ sáp", "35.000", 2),
    ]


def test_two_row_header_and_colspan() -> None:
    html = """<table>
      <tr><th rowspan="2">Mặt hàng</th><th colspan="2">Giá (đồng/kg)</th></tr>
      <tr><th>Hôm nay</th><th>Hôm qua</th></tr>
      <tr><td>Sắn tươi</td><td>2.900</td><td>2.850</td></tr>
    </table>"""
    result = parse(html, fixed={"date": "17/4"}, columns={"price": "hôm nay"})
    assert [(r.commodity, r.price_text) for r in result.rows] == [("Sắn tươi", "2.900")]
    assert result.defaults["unit"] == "VND/kg"


def test_short_row_is_rejected_with_a_reason() -> None:
    html = """<table><tr><th>Mặt hàng</th><th>Thị trường</th><th>Giá</th></tr>
      <tr><td>Lạc vỏ</td><td>Gio Linh</td><td>30.000</td></tr>
      <tr><td>Lạc nhân</td><td>Gio Linh</td></tr></table>"""
    result = parse(html)
    assert len(result.rows) == 1
    assert result.rejected[0].row_number == 3
    assert "price is column 3" in result.rejected[0].reason


@pytest.mark.parametrize(
    ("html", "settings", "message"),
    [
        ("<p>Không có bảng</p>", {}, "expected a price table"),
        ("<table><tr><th>A</th></tr></table>", {"table": "#giá"}, "no element matches"),
        (
            "<table><tr><th>Mặt hàng</th><th>Ghi chú</th></tr><tr><td>x</td><td>y</td></tr>"
            "</table>",
            {},
            "expected a price column",
        ),
        (
            "<table><tr><th>Mặt hàng</th><th>Giá</th></tr><tr><td>x</td><td>1</td></tr></table>",
            {"columns": {"market": "chợ"}},
            "no column header contains 'cho'",
        ),
        (
            "<table><tr><th>Thị trường</th><th>Giá</th></tr><tr><td>x</td><td>1</td></tr></table>",
            {},
            "expected a commodity column",
        ),
    ],
)
def test_layout_changes_raise_source_error(html: str, settings: dict, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        parse(html, **settings)


def test_unknown_settings_are_reported_not_fatal() -> None:
    result = parse(fixture("sct_daily_prices.html"), colums={"price": "giá"}, **SCT_SETTINGS)
    assert result.warnings == ["unknown settings ignored: colums"]


def test_settings_help_covers_every_key() -> None:
    assert set(html_table.SETTINGS_HELP) >= {
        "table", "rows", "header_row", "columns", "fixed", "date_from_heading", "thousands",
        "scale", "attributes", "skip_rows_matching", "pages",
    }  # fmt: skip


# ---------------------------------------------------------------------------
# collect
# ---------------------------------------------------------------------------


def test_collect_fetches_the_page_and_extra_pages(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nAllow: /\n")
    httpserver.expect_request("/gia-ca").respond_with_data(
        fixture("sct_daily_prices.html"), content_type="text/html; charset=utf-8"
    )
    httpserver.expect_request("/gia-ca-2").respond_with_data(
        fixture("sct_daily_prices.html").encode(), content_type="text/html; charset=iso-8859-1"
    )
    with Fetcher(delay=0, retries=0) as fetcher:
        collected = html_table.collect(
            fetcher=fetcher,
            url=httpserver.url_for("/gia-ca"),
            settings={**SCT_SETTINGS, "pages": [httpserver.url_for("/gia-ca-2")]},
            today=TODAY,
        )
    assert collected.pages == [httpserver.url_for("/gia-ca"), httpserver.url_for("/gia-ca-2")]
    assert len(collected.result.rows) == 14
    assert collected.result.rows[7].commodity == "Gạo tẻ thường"  # no mojibake on page 2
    assert collected.defaults["price_type"] == "Giá bán lẻ (đồng)"
    assert collected.thousands == "."
