"""CSV and XLSX files: long and wide (World Bank Pink Sheet style) layouts, local and over HTTP."""

from __future__ import annotations

import io
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook
from pytest_httpserver import HTTPServer

from market.prices.fetch import Fetcher
from market.prices.normalise import normalise_all, normalise_collected
from market.prices.sources import get_adapter, tabular
from market.prices.sources.base import SourceError

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = date(2026, 4, 20)
CSV_SETTINGS = {
    "columns": {
        "date": "ngày",
        "commodity": "mặt hàng",
        "market": "thị trường",
        "price": "giá",
        "unit": "đơn vị",
        "price_type": "loại giá",
    },
    "skip_rows_matching": "tổng cộng",
}
PINK = {
    "layout": "wide",
    "sheet": "Monthly Prices",
    "header_row": 5,
    "unit_row": 6,
    "date_column": 0,
    "date_format": "%YM%m",
    "columns": {"Coffee, Robusta": "ca_phe_robusta_nhan", "Rice, Thai 5%": "gao_xk_5_tam"},
    "fixed": {"market": "Thế giới", "price_type": "xuất khẩu"},
}


def parse(content: bytes, **settings):
    return tabular.parse(content, settings=settings, today=TODAY)


def xlsx_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def pink_sheet() -> bytes:
    """A small workbook laid out like the World Bank's monthly "Pink Sheet" (invented values)."""
    names = ["Crude oil, average", "Coffee, Arabica", "Coffee, Robusta", "Rice, Thai 5%"]
    return xlsx_bytes(
        {
            "AFOSHEET": [["Read me first"]],
            "Monthly Prices": [
                ["World Bank Commodity Price Data (The Pink Sheet)"],
                ["monthly prices in nominal US dollars"],
                [None],
                ["Updated on April 2, 2026"],
                [None, *names],
                [None, "($/bbl)", "($/kg)", "($/kg)", "($/mt)"],
                [None, "CRUDE_PETRO", "COFFEE_ARABIC", "COFFEE_ROBUS", "RICE_05"],
                ["2025M12", 63.21, 8.1234, 4.5012, 372.5],
                ["2026M01", 64.0, 8.2, 4.75, "…"],
                ["2026M02", 65.5, 8.0, None, 380],
                ["2026M13", 1, 2, 3, 4],
            ],
        }
    )


# ---------------------------------------------------------------------------
# CSV, long layout
# ---------------------------------------------------------------------------


def test_csv_fixture_long_layout() -> None:
    result = parse((FIXTURES / "gia_nong_san.csv").read_bytes(), **CSV_SETTINGS)
    got = [(r.row_number, r.commodity, r.market, r.price_text, r.unit_text) for r in result.rows]
    assert got == [
        (2, "Lúa tươi IR 50404", "Hải Lăng", "7.200", "đ/kg"),
        (3, "Sắn tươi", "Hướng Hóa", "2.850 - 2.900", "đ/kg"),
        (4, "Tinh bột sắn", "Nhà máy tinh bột sắn Hướng Hóa", "14,2", "triệu đồng/tấn"),
        (6, "Hồ tiêu; loại 1", "Vĩnh Linh", "150.000", "đ/kg"),
    ]
    assert [(r.row_number, r.reason) for r in result.rejected] == [(5, "no price printed")]
    prices, rejected = normalise_all(result.rows, today=TODAY)
    assert rejected == []
    assert [(p.price, p.price_type) for p in prices] == [
        (7200, "farm_gate"),
        (2875, "farm_gate"),
        (14200, "wholesale"),
        (150000, "farm_gate"),
    ]


def _cp1258(text: str) -> bytes:
    """Encode as Windows-1258 does: precomposed base letters, tones as combining marks."""
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out = b""
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", char)
            tone = "".join(p for p in parts if p in tones)
            base = unicodedata.normalize("NFC", "".join(p for p in parts if p not in tones))
            out += (base + tone).encode("cp1258")
    return out


def test_csv_in_windows_1258_with_tabs() -> None:
    text = "Mặt hàng\tGiá\tĐVT\tNgày\nCà phê nhân xô\t86.500\tđ/kg\t17/4/2026\n"
    content = _cp1258(text)
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    result = parse(content, columns={"commodity": 0, "price": 1, "unit": 2, "date": 3})
    assert result.rows[0].commodity == "Cà phê nhân xô"
    assert unicodedata.is_normalized("NFC", result.rows[0].commodity)


def test_csv_with_commas_and_english_numbers() -> None:
    content = b'commodity,price,unit,date\n"Pepper, black","6,450",USD/MT,2026-04-16\n'
    result = parse(
        content,
        columns={"commodity": "commodity", "price": "price", "unit": "unit", "date": "date"},
        thousands=",",
    )
    assert result.rows[0].commodity == "Pepper, black"
    (price,), _ = normalise_all(result.rows, today=TODAY, thousands=",")
    assert (price.price, price.currency) == (Decimal("6.45"), "USD")


def test_long_layout_needs_price_and_commodity() -> None:
    content = (FIXTURES / "gia_nong_san.csv").read_bytes()
    with pytest.raises(SourceError, match="price"):
        parse(content, columns={"commodity": "mặt hàng"})
    with pytest.raises(SourceError, match="no header matches"):
        parse(content, columns={"commodity": "sản phẩm", "price": "giá"})


# ---------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------


def test_pink_sheet_wide_layout() -> None:
    result = parse(pink_sheet(), **PINK)
    got = [(r.commodity, r.date_text, r.price_text, r.unit_text) for r in result.rows]
    assert got == [
        ("ca_phe_robusta_nhan", "2025-12-01", "4,5012", "($/kg)"),
        ("gao_xk_5_tam", "2025-12-01", "372,5", "($/mt)"),
        ("ca_phe_robusta_nhan", "2026-01-01", "4,75", "($/kg)"),
        ("gao_xk_5_tam", "2026-02-01", "380", "($/mt)"),
    ]
    assert {r.market for r in result.rows} == {"Thế giới"}
    assert [(r.row_number, r.reason) for r in result.rejected] == [
        (11, "the date “2026M13” does not match the format %YM%m")
    ]
    prices, rejected = normalise_all(result.rows, today=TODAY)
    assert rejected == []
    assert [(p.price, p.currency, p.unit_code, p.price_type) for p in prices] == [
        (Decimal("4.5012"), "USD", "kg", "export"),
        (Decimal("0.3725"), "USD", "kg", "export"),
        (Decimal("4.75"), "USD", "kg", "export"),
        (Decimal("0.38"), "USD", "kg", "export"),
    ]


def test_wide_layout_missing_column_is_a_layout_change() -> None:
    settings = {**PINK, "columns": {"Cocoa": "ca_cao"}}
    with pytest.raises(SourceError, match="no header matches column 'Cocoa'"):
        parse(pink_sheet(), **settings)
    with pytest.raises(SourceError, match="matches several headers"):
        parse(pink_sheet(), **{**PINK, "columns": {"Coffee": "ca_phe"}})


def test_wrong_sheet_name() -> None:
    with pytest.raises(SourceError, match="no sheet named 'Monthly'; sheets: AFOSHEET"):
        parse(pink_sheet(), **{**PINK, "sheet": "Monthly"})


def test_xlsx_long_layout_with_typed_cells() -> None:
    content = xlsx_bytes(
        {
            "Giá": [
                ["Ngày", "Mặt hàng", "Chợ", "Giá", "ĐVT"],
                [datetime(2026, 4, 17), "Thanh long ruột đỏ", "Chợ Đông Hà", 25000, "đ/kg"],
                [datetime(2026, 4, 17), "Hồ tiêu", "Chợ Đông Hà", 152.5, "nghìn đồng/kg"],
                [datetime(2026, 4, 17), "Nấm hương", "Chợ Đông Hà", 1.234, "triệu đồng/kg"],
            ]
        }
    )
    settings = {
        "columns": {"date": "ngày", "commodity": "mặt hàng", "market": "chợ", "price": "giá",
                    "unit": "đvt"},
    }  # fmt: skip
    result = parse(content, **settings)
    assert [r.price_text for r in result.rows] == ["25000", "152,5", "1,234"]
    prices, _ = normalise_all(result.rows, today=TODAY)
    assert [p.price for p in prices] == [25000, 152500, 1234000]  # 1.234 is not 1234
    assert {p.observed_on for p in prices} == {date(2026, 4, 17)}


def test_cell_text() -> None:
    assert tabular.cell_text(1.234) == "1,234"
    assert tabular.cell_text(1.234, thousands=",") == "1.234"
    assert tabular.cell_text(64800.0) == "64800"
    assert tabular.cell_text(Decimal("0.10")) == "0,1"
    assert tabular.cell_text(datetime(2026, 4, 17, 8, 30)) == "2026-04-17"
    assert tabular.cell_text(None) == ""
    assert tabular.cell_text("  Cà   phê ") == "Cà phê"


@pytest.mark.parametrize(
    ("content", "settings", "message"),
    [
        (b"\xd0\xcf\x11\xe0rest", {}, "old binary .xls"),
        (b"PK\x03\x04not really a zip", {}, "not a readable .xlsx"),
        (b"a,b\n1,2\n", {"format": "ods"}, "format must be"),
        (b"a,b\n1,2\n", {"layout": "tall", "columns": {"price": "a"}}, "layout must be"),
        (b"a,b\n1,2\n", {"columns": {"price": "a"}, "header_row": 0}, "counted from 1"),
    ],
)
def test_unreadable_files(content: bytes, settings: dict, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        parse(content, **settings)


# ---------------------------------------------------------------------------
# collect
# ---------------------------------------------------------------------------


def test_collect_reads_local_paths_and_file_urls() -> None:
    path = FIXTURES / "gia_nong_san.csv"
    with Fetcher() as fetcher:
        for url in (str(path), path.resolve().as_uri()):
            collected = tabular.collect(
                fetcher=fetcher, url=url, settings=CSV_SETTINGS, today=TODAY
            )
            assert collected.pages == [path.resolve().as_uri()]
            assert len(collected.result.rows) == 4
        with pytest.raises(SourceError, match="cannot read"):
            tabular.collect(
                fetcher=fetcher, url=str(path) + ".missing", settings=CSV_SETTINGS, today=TODAY
            )


def test_collect_downloads_a_workbook(httpserver_ipv4: HTTPServer) -> None:
    httpserver_ipv4.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver_ipv4.expect_request("/CMO-Historical-Data-Monthly.xlsx").respond_with_data(
        pink_sheet(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    url = httpserver_ipv4.url_for("/CMO-Historical-Data-Monthly.xlsx")
    with Fetcher(delay=0) as fetcher:
        collected = get_adapter("xlsx").collect(
            fetcher=fetcher, url=url, settings=PINK, today=TODAY
        )
    assert collected.pages == [url]
    prices, rejected = normalise_collected(collected, today=TODAY)
    assert len(prices) == 4
    assert [r.row_number for r in rejected] == [11]


def test_collect_csv_over_http(httpserver_ipv4: HTTPServer) -> None:
    httpserver_ipv4.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver_ipv4.expect_request("/gia.csv").respond_with_data(
        (FIXTURES / "gia_nong_san.csv").read_bytes(), content_type="text/csv"
    )
    with Fetcher(delay=0) as fetcher:
        collected = get_adapter("csv").collect(
            fetcher=fetcher,
            url=httpserver_ipv4.url_for("/gia.csv"),
            settings=CSV_SETTINGS,
            today=TODAY,
        )
    assert collected.result.rows[0].commodity == "Lúa tươi IR 50404"
    assert collected.thousands == "."
