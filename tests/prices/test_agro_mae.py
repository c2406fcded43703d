"""The MAE price database adapter: our own fixture pages, then the real saved pages in place."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from market.prices.fetch import Fetcher
from market.prices.normalise import normalise_all, normalise_collected
from market.prices.sources import agro_mae, get_adapter
from market.prices.sources.base import SourceError
from market.text import parse_date, parse_number

FIXTURES = Path(__file__).parent / "fixtures" / "agro_mae"
REFERENCE = Path("/work/shared/reference/price-pages")
TODAY = date(2026, 4, 17)
GRID = "ctl00$maincontent$GridView1"
GROUP = "ctl00$maincontent$Ngành_hàng"
SUBGROUP = "ctl00$maincontent$Nhóm_sản_phẩm"
BOXES = [f"ctl00$maincontent$hiện_các_trường${i}" for i in range(4)]


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def parse(html: str, **settings):
    return agro_mae.parse(html, settings=settings, today=TODAY)


# ---------------------------------------------------------------------------
# Pure functions on our fixture pages
# ---------------------------------------------------------------------------


def test_form_state_has_hidden_inputs_and_current_values() -> None:
    state = agro_mae.form_state(fixture("form.html"))
    assert state["__VIEWSTATE"] == "/wEPDwUKMTU4NzQwMDAwMGRkZm9ybQ=="
    assert state["__EVENTVALIDATION"] == "/wEdAAdGT1JNX0VWRU5UX1ZBTElEQVRJT04="
    assert state["__VIEWSTATEGENERATOR"] == "75373839"
    assert state["__EVENTTARGET"] == state["__EVENTARGUMENT"] == ""
    assert state["ctl00$maincontent$tu_ngay"] == "10/04/2026"
    assert state[GROUP] == ""
    assert state["ctl00$maincontent$Theo_thời_gian"] == "ngay"
    assert not set(BOXES) & set(state)  # unticked boxes are not posted
    assert "ctl00$maincontent$Xem" not in state  # nor buttons nobody clicked
    assert agro_mae.form_state(fixture("page1.html"))[BOXES[1]] == "on"
    assert agro_mae.form_state(fixture("page1.html"))[GROUP] == "Cà phê"


def test_pager_targets_include_the_ellipsis_link() -> None:
    assert agro_mae.pager_targets(fixture("page1.html")) == [(GRID, "Page$2"), (GRID, "Page$3")]
    assert agro_mae.pager_targets(fixture("page2.html")) == [(GRID, "Page$1"), (GRID, "Page$3")]
    assert agro_mae.pager_targets(fixture("page3.html")) == [(GRID, "Page$2")]
    assert agro_mae.pager_targets(fixture("empty.html")) == []
    assert [agro_mae.current_page(fixture(f"page{n}.html")) for n in (1, 2, 3)] == [1, 2, 3]


def test_parse_reads_the_optional_columns_and_skips_the_pager() -> None:
    result = parse(fixture("page2.html"))
    assert not result.empty
    assert result.rejected == []
    first, _, export, arabica = result.rows
    assert (first.commodity, first.market, first.date_text, first.price_text) == (
        "Cà phê Robusta nhân xô",
        "Đắk Lắk",
        "16-04-2026",
        "87.300",
    )
    assert (first.price_type_text, first.unit_text, first.currency_text, first.source_text) == (
        "Giá thu mua",
        "đồng/kg",
        "VNĐ",
        "Sở NN&MT Đắk Lắk",
    )
    assert first.raw.endswith("| Sở NN&MT Đắk Lắk | 87.300")
    assert [r.row_number for r in result.rows] == [1, 2, 3, 4]
    prices, rejected = normalise_all(result.rows, today=TODAY)
    assert rejected == []
    assert [(p.price, p.currency, p.price_type) for p in prices] == [
        (87300, "VND", "farm_gate"),
        (87200, "VND", "farm_gate"),
        (Decimal("4.215"), "USD", "export"),
        (125000, "VND", "wholesale"),
    ]
    assert export.unit_text == "USD/tấn"
    assert arabica.unit_text == "nghìn đồng/kg"


def test_empty_result_is_not_an_error() -> None:
    result = parse(fixture("empty.html"))
    assert result.empty
    assert result.rows == result.rejected == []


def test_page_without_grid_or_message_is_a_layout_change() -> None:
    with pytest.raises(SourceError, match="expected the price grid"):
        parse(fixture("form.html"))


def test_changed_headers_are_a_layout_change() -> None:
    html = fixture("plain.html").replace("Thị trường</th>", "Tỉnh</th>")
    with pytest.raises(SourceError, match="expected the grid headers"):
        parse(html)


def test_without_the_unit_column_nothing_is_guessed() -> None:
    result = parse(fixture("plain.html"))
    assert [(r.commodity, r.price_text, r.unit_text) for r in result.rows] == [
        ("Bưởi Phúc Trạch", "60", None),
        ("Cam Vinh", "45", None),
        ("Thanh long ruột đỏ", "25.000", None),
        ("Sắn tươi", "2.850", None),
    ]
    prices, rejected = normalise_all(result.rows, today=TODAY)
    assert prices == []
    assert {r.reason for r in rejected} == {"no unit printed and none configured"}


def test_a_malformed_row_is_rejected_and_the_rest_kept() -> None:
    html = fixture("plain.html").replace("<td>Cam Vinh</td>", "", 1)
    result = parse(html)
    assert len(result.rows) == 3
    assert [(r.row_number, r.reason) for r in result.rejected] == [(2, "expected 4 cells, found 3")]


def test_fixed_fills_what_the_page_does_not_show() -> None:
    result = parse(fixture("plain.html"), fixed={"unit": "đồng/kg"})
    assert {r.unit_text for r in result.rows} == {"đồng/kg"}


def test_registered_adapter() -> None:
    assert get_adapter("agro_mae") is agro_mae
    assert {"product_group", "period", "days", "max_pages"} <= set(agro_mae.SETTINGS_HELP)
    with pytest.raises(KeyError, match="unknown source kind"):
        get_adapter("rss")


# ---------------------------------------------------------------------------
# collect, end to end over HTTP
# ---------------------------------------------------------------------------

STATES = {name: agro_mae.form_state(fixture(f"{name}.html")) for name in ("form", "page1", "page2")}


class FakeSite:
    """Serves the fixture pages as the real site would, checking every posted field."""

    def __init__(self, server: HTTPServer, *, result_pages: dict[str, str] | None = None) -> None:
        self.problems: list[str] = []
        self.posts: list[dict[str, str]] = []
        self.result_pages = result_pages or {"": "page1", "Page$2": "page2", "Page$3": "page3"}
        server.expect_request("/robots.txt").respond_with_data("User-agent: *\nAllow: /\n")
        server.expect_request("/vn/nguonwmy.aspx", method="GET").respond_with_data(
            fixture("form.html"), content_type="text/html; charset=utf-8"
        )
        server.expect_request("/vn/nguonwmy.aspx", method="POST").respond_with_handler(self)
        self.url = server.url_for("/vn/nguonwmy.aspx")

    def expect(self, form: dict[str, str], field: str, value: str | None) -> None:
        if form.get(field) != value:
            self.problems.append(f"{field}={form.get(field)!r}, expected {value!r}")

    def echoes(self, form: dict[str, str], page: str) -> None:
        for field in ("__VIEWSTATE", "__EVENTVALIDATION", "__VIEWSTATEGENERATOR"):
            self.expect(form, field, STATES[page][field])

    def __call__(self, request: Request) -> Response:
        form = dict(request.form)
        self.posts.append(form)
        target, argument = form.get("__EVENTTARGET"), form.get("__EVENTARGUMENT")
        self.expect(form, "ctl00$maincontent$tai_excel", None)
        if target == "":
            self.echoes(form, "form")
            self.expect(form, "ctl00$maincontent$Xem", "Xem")
            page = self.result_pages[""]
        elif target == GRID and argument in self.result_pages:
            previous = {"Page$2": "page1", "Page$3": "page2"}[str(argument)]
            self.echoes(form, previous)
            self.expect(form, "ctl00$maincontent$Xem", None)
            page = self.result_pages[str(argument)]
        else:
            self.problems.append(f"unexpected postback {target!r} {argument!r}")
            return Response("bad postback", status=400)
        self.expect(form, "ctl00$maincontent$tu_ngay", "10/04/2026")
        self.expect(form, "ctl00$maincontent$den_ngay", "17/04/2026")
        self.expect(form, GROUP, "Cà phê")
        self.expect(form, "ctl00$maincontent$Theo_thời_gian", "ngay")
        for box in BOXES:
            self.expect(form, box, "on")
        return Response(fixture(f"{page}.html"), content_type="text/html; charset=utf-8")


def run(site: FakeSite, **settings):
    with Fetcher(delay=0, retries=0) as fetcher:
        return agro_mae.collect(
            fetcher=fetcher,
            url=site.url,
            settings={"product_group": "Cà phê", **settings},
            today=TODAY,
        )


def test_collect_posts_the_query_and_follows_every_page(httpserver_ipv4: HTTPServer) -> None:
    site = FakeSite(httpserver_ipv4)
    collected = run(site)
    assert site.problems == []
    assert [post["__EVENTARGUMENT"] for post in site.posts] == ["", "Page$2", "Page$3"]
    assert collected.pages == [site.url, site.url, f"{site.url}#Page$2", f"{site.url}#Page$3"]
    rows = collected.result.rows
    assert len(rows) == 9
    assert [r.row_number for r in rows] == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert not any(re.fullmatch(r"[\d. ]+", r.commodity) for r in rows)  # no pager rows
    assert [(r.row_number, r.reason) for r in collected.result.rejected] == [
        (10, "no price printed")
    ]
    prices, rejected = normalise_collected(collected, today=TODAY)
    assert len(prices) == 9
    assert [r.reason for r in rejected] == ["no price printed"]
    assert {p.unit_code for p in prices} == {"kg"}


def test_collect_stops_at_max_pages(httpserver_ipv4: HTTPServer) -> None:
    site = FakeSite(httpserver_ipv4)
    collected = run(site, max_pages=2)
    assert site.problems == []
    assert len(collected.result.rows) == 8
    assert collected.result.warnings == [
        "stopped after max_pages=2 result pages; page 3 and later were not fetched"
    ]


def test_collect_empty_result(httpserver_ipv4: HTTPServer) -> None:
    site = FakeSite(httpserver_ipv4, result_pages={"": "empty"})
    collected = run(site)
    assert collected.result.empty
    assert collected.result.rows == []
    assert len(site.posts) == 1


def test_collect_refreshes_the_form_for_a_sub_group(httpserver_ipv4: HTTPServer) -> None:
    posts: list[dict[str, str]] = []

    def handler(request: Request) -> Response:
        posts.append(dict(request.form))
        return Response(fixture("empty.html"), content_type="text/html; charset=utf-8")

    httpserver_ipv4.expect_request("/robots.txt").respond_with_data("")
    httpserver_ipv4.expect_request("/vn/nguonwmy.aspx", method="GET").respond_with_data(
        fixture("form.html"), content_type="text/html; charset=utf-8"
    )
    httpserver_ipv4.expect_request("/vn/nguonwmy.aspx", method="POST").respond_with_handler(handler)
    with Fetcher(delay=0, retries=0) as fetcher:
        collected = agro_mae.collect(
            fetcher=fetcher,
            url=httpserver_ipv4.url_for("/vn/nguonwmy.aspx"),
            settings={"product_group": "lua gao", "product_subgroup": "Lúa", "period": "daily"},
            today=TODAY,
        )
    assert collected.result.empty
    auto_postback, query = posts
    assert (auto_postback["__EVENTTARGET"], auto_postback[GROUP]) == (GROUP, "Lúa gạo")
    assert query["__VIEWSTATE"] == agro_mae.form_state(fixture("empty.html"))["__VIEWSTATE"]
    assert (query[GROUP], query[SUBGROUP], query["__EVENTTARGET"]) == ("Lúa gạo", "Lúa", "")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"product_group": "Thủy sản"}, "product_group 'Thủy sản' is not offered; choices:"),
        ({"product_group": ""}, "product_group is required"),
        ({"product_group": "Cà phê", "period": "Quý"}, "period 'Quý' is not offered"),
    ],
)
def test_collect_reports_bad_settings(
    httpserver_ipv4: HTTPServer, settings: dict, message: str
) -> None:
    site = FakeSite(httpserver_ipv4)
    with pytest.raises(SourceError, match=message), Fetcher(delay=0, retries=0) as fetcher:
        agro_mae.collect(fetcher=fetcher, url=site.url, settings=settings, today=TODAY)
    assert site.posts == []


# ---------------------------------------------------------------------------
# The real saved pages, read in place and compared with their hand-checked answer keys
# ---------------------------------------------------------------------------

needs_reference = pytest.mark.skipif(
    not REFERENCE.is_dir(), reason=f"reference pages not available at {REFERENCE}"
)


def answer_key(name: str) -> list[dict[str, str]]:
    text = (REFERENCE / f"{name}.md").read_text(encoding="utf-8")
    block = re.search(r"```csv\n(.*?)```", text, re.DOTALL)
    assert block is not None, f"{name}.md has no csv block"
    return list(csv.DictReader(io.StringIO(block.group(1))))


def reference(name: str) -> str:
    return (REFERENCE / f"{name}.html").read_text(encoding="utf-8")


REAL = [
    ("01_thitruongnongsan_ca_phe_2026-04-21", "Cà phê", 11),
    ("02_thitruongnongsan_lua_gao_2026-04-22", "Lúa gạo", 8),
    ("03_thitruongnongsan_rau_qua_2026-04-22", "Rau, quả", 11),
]


def _check_identity(key: list[dict[str, str]], rows, product: str | None) -> None:
    assert len(rows) == len(key)
    for expected, row in zip(key, rows, strict=True):
        assert parse_date(row.date_text, today=TODAY).isoformat() == expected["date"]
        assert row.market == expected["market"]
        assert row.commodity == expected.get("product", product)


@needs_reference
@pytest.mark.parametrize(("name", "group", "last_page"), REAL)
def test_real_page_form_and_pager(name: str, group: str, last_page: int) -> None:
    html = reference(name)
    state = agro_mae.form_state(html)
    assert (state[GROUP], state["ctl00$maincontent$tu_ngay"]) == (group, "01/01/2026")
    assert state["__VIEWSTATE"].startswith("/wEP")
    targets = agro_mae.pager_targets(html)
    assert targets[0] == (GRID, "Page$2")
    assert targets[-1] == (GRID, f"Page${last_page}")
    assert agro_mae.current_page(html) == 1


@needs_reference
@pytest.mark.parametrize(
    ("name", "product"),
    [
        ("01_thitruongnongsan_ca_phe_2026-04-21", "Cà phê Robusta nhân xô"),
        ("02_thitruongnongsan_lua_gao_2026-04-22", None),
    ],
)
def test_real_pages_match_their_answer_keys(name: str, product: str | None) -> None:
    key = answer_key(name)
    result = parse(reference(name))
    assert result.rejected == []
    _check_identity(key, result.rows, product)
    # The unit is not printed: it comes from the source's settings (đồng/kg by the key).
    prices, rejected = normalise_all(result.rows, defaults={"unit": "đồng/kg"}, today=TODAY)
    assert rejected == []
    assert [p.price for p in prices] == [Decimal(row["price_vnd"]) for row in key]


@needs_reference
def test_real_mixed_scale_page_is_not_guessed() -> None:
    name = "03_thitruongnongsan_rau_qua_2026-04-22"
    key = answer_key(name)
    result = parse(reference(name))
    _check_identity(key, result.rows, None)
    assert [r.price_text for r in result.rows] == [row["raw_price"] for row in key]
    # Without the unit column no price may be stored (85 is not 85 đ/kg) ...
    prices, rejected = normalise_all(result.rows, today=TODAY)
    assert prices == []
    assert len(rejected) == len(key)
    # ... and with the unit the key infers per row, each reads as its hand-checked value.
    for expected, row in zip(key, result.rows, strict=True):
        per_kg = Decimal(expected["vnd_per_kg_if_inferred"])
        unit = "đồng/kg" if parse_number(row.price_text) == per_kg else "nghìn đồng/kg"
        (price,), _ = normalise_all([row], defaults={"unit": unit}, today=TODAY)
        assert price.price == per_kg
