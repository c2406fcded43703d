"""html_table reads pages with lxml directly; it must read every page as BeautifulSoup did.

Each case parses the same page twice, once on the lxml path and once forced onto the
BeautifulSoup path (the reader before the lxml path existed, still the fallback), and compares
the whole ``ParseResult`` or the ``SourceError`` message.
"""

from __future__ import annotations

import warnings
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup, Tag
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from market.prices.sources import html_table
from market.prices.sources.base import ParseResult

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = date(2026, 4, 17)


def _run(html: str, options: dict[str, Any]) -> ParseResult | str:
    try:
        return html_table.parse(html, settings=options, today=TODAY)
    except Exception as exc:  # the same error, with the same message, on both paths
        return f"{type(exc).__name__}: {exc}"


def both(html: str, options: dict[str, Any]) -> tuple[ParseResult | str, ParseResult | str, bool]:
    """(lxml path result, BeautifulSoup path result, whether the lxml path was taken)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bs4 warns about XML-looking markup; lxml does not
        fast_dom = html_table._read(html, options)
        fast = _run(html, options)
    original = html_table._LxmlDom.read
    html_table._LxmlDom.read = classmethod(lambda cls, html, selectors: None)  # type: ignore[assignment]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # bs4 warns about XML-looking markup; lxml does not
            slow = _run(html, options)
    finally:
        html_table._LxmlDom.read = original  # type: ignore[method-assign]
    return fast, slow, isinstance(fast_dom, html_table._LxmlDom)


def assert_same(html: str, options: dict[str, Any], *, fast_path: bool = True) -> None:
    fast, slow, took_fast = both(html, options)
    assert took_fast is fast_path
    assert fast == slow


SCT = {"date_from_heading": {"selector": "h2.title", "regex": r"ngày (\d{1,2}/\d{1,2}/\d{4})"}}
COFFEE = {
    "table": "table.coffee-price",
    "fixed": {"commodity": "Cà phê nhân xô", "date": "17/04/2026"},
    "skip_rows_matching": "tỷ giá",
}
PEPPER = {
    "table": "table.pepper-price",
    "columns": {"market": "tỉnh", "price": "giá", "change": "thay đổi"},
    "fixed": {"commodity": "Hồ tiêu đen", "date": "17/4"},
}
ATTR = {
    "attributes": {"price": "data-price"},
    "date_from_heading": {"selector": "h1.page-title", "regex": r"ngày (\d{1,2}/\d{1,2}/\d{4})"},
    "skip_rows_matching": "quảng cáo",
}


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("sct_daily_prices.html", SCT),
        ("sct_daily_prices.html", {**SCT, "columns": {"commodity": "tên hàng", "market": 3}}),
        ("sct_daily_prices.html", {**SCT, "section_field": "market"}),
        ("sct_daily_prices.html", {"date_from_heading": r"ngày (\d{1,2}/\d{1,2}/\d{4})"}),
        ("news_coffee_pepper.html", COFFEE),
        ("news_coffee_pepper.html", PEPPER),
        ("news_coffee_pepper.html", {}),
        ("attr_prices.html", ATTR),
        ("attr_prices.html", {**ATTR, "date_from_heading": {"selector": "h1", "regex": "x(y)"}}),
    ],
)
def test_fixture_pages_read_the_same(name: str, options: dict[str, Any]) -> None:
    assert_same((FIXTURES / name).read_text(encoding="utf-8"), options)


def test_generated_benchmark_pages_read_the_same() -> None:
    from benchmarks import pages

    options = {
        "table": pages.TABLE_SELECTOR,
        "date_from_heading": {
            "selector": pages.HEADING_SELECTOR,
            "regex": r"ngày (\d{1,2}/\d{1,2}/\d{4})",
        },
    }
    for number in range(0, 500, 50):
        text, priced = pages.page(number)
        fast, slow, took_fast = both(text, options)
        assert took_fast
        assert fast == slow
        assert isinstance(fast, ParseResult)
        assert len(fast.rows) == priced


TRICKY = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html><HTML><head><style>td {{ color: red }}</style><script>var a = "<td>";</script>
</head><BODY>
<p>Đơn vị: <b>nghìn&nbsp;đồng/kg</b><!-- cũ: đ/tạ --></p>
<script>document.write("(1.000 đ/kg)")</script>
<div class="  wrap\tmain " id="giá"><p>Bảng giá
<TABLE CLASS="Gia  bang-gia">
<caption>Giá bán lẻ <script>x()</script>(1.000 đ/kg)</caption>
<thead><tr><th>Mặt<br>hàng</th><th>Chợ</th><th>Giá</th><th>Tăng/giảm (đ/kg)</th></tr></thead>
<tr><td rowspan=" 2 ">Cà<!-- x -->phê <i>nhân</i> <b>xô<sup>1</sup></b></td><td>Đông Hà
<td data-price="86933.5">86,9<script>track()</script></td><td>+500</td></tr>
<tr><td colspan="abc">Khe Sanh</td><td><span data-price="85000">85</span></td><td>&#8212;</td>
<tr><td rowspan="0">Tiêu</td><td>Hồ Xá &amp; Cửa Tùng &foo;</td>
<td>149 <?php echo 1 ?></td><td></td>
<tr><td colspan="4">Ghi chú <table><tr><td>lồng</td><td>nhau</td></tr></table></td></tr>
<tr><td>Lạc</td><td><o:p></o:p>Gio Linh</td><td> &nbsp; </td><td>-</td></tr>
<tr><th>Mặt hàng</th><th>Chợ</th><th>Giá</th><th>Tăng/giảm (đ/kg)</th></tr>
<tr><td>Sắn<noscript>(không JS)</noscript></td><td>Cam Lộ</td><td>2,9</td><td>+0,1</td></tr>
<td>lạc loài</td>
</TABLE></div>
<table class="khac"><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>
<h2 class="title">Cập nhật ngày {day}</h2>
</body></HTML>"""


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"table": "table.bang-gia"},
        {"table": "TABLE.Gia"},
        {"table": "table.gia"},
        {"table": "div.wrap.main > p > table"},
        {"table": "#giá table"},
        {"table": "div#giá.main table.bang-gia.Gia"},
        {"table": " body   div>p table , table.khac "},
        {"table": "table.khac, table.bang-gia"},
        {"table": "*.khac"},
        {"table": "div > table"},
        {"table": "table table"},
        {"table": "html body table.bang-gia"},
        {"table": "table.bang-gia", "attributes": {"price": "data-price"}},
        {"table": "table.bang-gia", "header_row": [0], "columns": {"commodity": 0, "price": 2}},
        {"table": "table.bang-gia", "scale": "1.000", "skip_rows_matching": "ghi chu"},
        {"table": "table.bang-gia", "date_from_heading": r"ngày (\d{1,2}/\d{1,2}/\d{4})"},
        {"table": "table.bang-gia", "section_field": "market"},
        {"rows": "table.bang-gia tr", "columns": {"commodity": 0, "price": 2}},
        {"rows": "div.nothing > p"},
    ],
)
def test_tricky_markup_reads_the_same(options: dict[str, Any]) -> None:
    assert_same(TRICKY.format(day="17/4/2026"), options)


@pytest.mark.parametrize(
    ("html", "options"),
    [
        (TRICKY, {"table": "table:nth-of-type(1)"}),  # a selector beyond the subset
        (TRICKY, {"table": "table[class]"}),
        (TRICKY, {"table": "table.bang-gia", "attributes": {"price": "class"}}),
        (TRICKY, {"rows": ["tr"]}),
        (
            "<table><tr><th>Mặt hàng</th><th>Giá</th></tr><tr><td>Lúa<rt>lúa</rt></td><td>7.200"
            "</td></tr></table>",
            {"fixed": {"date": "1/4"}},
        ),
        ("<template><b>x</b></template><p>no table</p>", {}),
        (  # a DOCTYPE after a tag splits "Lúa tươi" in bs4 and vanishes from an lxml tree
            "<table><tr><th>Mặt hàng</th><th>Giá</th></tr><tr><td>Lúa<!DOCTYPE html>tươi</td>"
            "<td>7.200</td></tr></table>",
            {"fixed": {"date": "1/4"}},
        ),
        ("", {}),
    ],
)
def test_unusual_pages_and_settings_fall_back_to_beautifulsoup(html: str, options: dict) -> None:
    fast, slow, took_fast = both(html.format(day="1/4/2026"), options)
    assert not took_fast
    assert fast == slow


def _signature(element: Any) -> tuple[int, ...]:
    """An element's position (indexes among element siblings), the same in both trees."""
    path: list[int] = []
    if isinstance(element, Tag):
        while element.parent is not None:
            siblings = [c for c in element.parent.children if isinstance(c, Tag)]
            path.append(next(i for i, c in enumerate(siblings) if c is element))
            element = element.parent
    else:
        while element is not None:
            parent = element.getparent()
            siblings = (
                [element] if parent is None else [c for c in parent if isinstance(c.tag, str)]
            )
            path.append(next(i for i, c in enumerate(siblings) if c is element))
            element = parent
    return tuple(reversed(path))


SELECTORS = [
    "table",
    "TABLE",
    "td",
    "tr > td",
    "table > tr",
    "table tr",
    "thead > tr > th",
    ".bang-gia",
    ".Gia",
    ".gia",
    ".wrap.main",
    "div.main",
    "#giá",
    "#GIÁ",
    "div#giá > p",
    "p table td",
    "p > table td",
    "body > div table",
    "html",
    "html > body > div",
    "*",
    "* > b",
    "h1, h2, h3, .title, caption",
    "caption, h2",
    "b, i, b",
    "table table td",
    "table td b",
    "div .bang-gia",
    "._x",
    "div.-x, #-y",
]


@pytest.mark.parametrize("selector", SELECTORS)
def test_selectors_match_what_soupsieve_matches(selector: str) -> None:
    page = TRICKY.format(day="1/4/2026")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        soup = BeautifulSoup(page, "lxml")
    dom = html_table._LxmlDom.read(page, [selector])
    assert dom is not None
    expected = [_signature(tag) for tag in soup.select(selector)]
    assert [_signature(el) for el in dom.select(selector)] == expected


@pytest.mark.parametrize(
    "selector",
    ["a:first-child", "a[href]", "a ~ b", "a + b", "a,", ",a", "a >", "> a", "#1x", "a\\.b", ""],
)
def test_selectors_beyond_the_subset_are_not_compiled(selector: str) -> None:
    assert html_table._compile_selector(selector) is None


# Random small pages: every tag, attribute and text the reader looks at, in random nesting.
_TEXT = st.sampled_from(
    [
        "Gạo",
        "Chợ Đông Hà",
        "15.000",
        "14.500 - 15.000",
        "-",
        "",
        " ",
        "&nbsp;",
        "đ/kg",
        "+500",
        "(1.000 đ/kg)",
        "Giá",
        "Mặt hàng",
        "Thị trường",
        "ĐVT",
        "ngày 17/4/2026",
        "&amp;",
        "<br>",
    ]
)
_ATTRS = st.sampled_from(
    [
        "",
        ' rowspan="2"',
        ' colspan="2"',
        ' rowspan="x"',
        ' class="gia"',
        ' class="gia khac"',
        ' data-price="86933.5"',
        ' id="t"',
    ]
)


@st.composite
def _node(draw: st.DrawFn, depth: int = 0) -> str:
    if depth > 3:
        return draw(_TEXT)
    kind = draw(
        st.sampled_from(
            [
                "text",
                "table",
                "tr",
                "td",
                "th",
                "b",
                "div",
                "p",
                "comment",
                "script",
                "caption",
                "h2",
                "unclosed",
            ]
        )
    )
    if kind == "text":
        return draw(_TEXT)
    if kind == "comment":
        return f"<!--{draw(_TEXT)}-->"
    if kind == "script":
        return f"<script>{draw(_TEXT)}</script>"
    children = "".join(draw(st.lists(_node(depth + 1), max_size=4)))
    if kind == "unclosed":
        return f"<td{draw(_ATTRS)}>{children}"
    return f"<{kind}{draw(_ATTRS)}>{children}</{kind}>"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.lists(_node(), min_size=1, max_size=5).map("".join),
    options=st.sampled_from(
        [
            {},
            {"table": "table.gia"},
            {"table": "div table"},
            {"rows": "tr"},
            {"attributes": {"price": "data-price"}},
            {"date_from_heading": r"\d+/\d+/\d{4}"},
            {"columns": {"commodity": 0, "price": 1}, "section_field": "commodity"},
        ]
    ),
)
def test_random_pages_read_the_same(body: str, options: dict[str, Any]) -> None:
    html = f"<html><body>{body}</body></html>"
    fast, slow, _ = both(html, options)
    assert fast == slow


def test_lxml_path_needs_no_beautifulsoup(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("BeautifulSoup used on the lxml path")

    monkeypatch.setattr(html_table, "BeautifulSoup", refuse)
    result = html_table.parse(
        (FIXTURES / "sct_daily_prices.html").read_text(encoding="utf-8"),
        settings=SCT,
        today=TODAY,
    )
    assert len(result.rows) == 7
    assert isinstance(html_table._read("<p>x</p>", {}).root, etree._Element)
