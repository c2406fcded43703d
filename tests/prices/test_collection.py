"""Collecting real pages over HTTP into the database: runs, idempotence, history, unknown
names, doubtful values, hostile pages. Each test serves its pages on 127.0.0.1."""

from __future__ import annotations

import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from werkzeug import Response

from market.accounts.models import User
from market.catalogue.models import Commodity, Market
from market.extensions import db
from market.prices.collect import collect_all, collect_source, map_name, unmapped_names
from market.prices.models import (
    CollectionRun,
    HeldPrice,
    PriceObservation,
    UnmappedName,
)
from market.prices.services import save_source, source_health

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = date(2026, 4, 17)

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Giá</title></head><body>
<h2>Giá nông sản ngày 17/04/2026</h2>
<table id="gia"><tr><th>Mặt hàng</th><th>Thị trường</th><th>Giá (đ/kg)</th></tr>
{rows}
</table></body></html>"""


def page(*rows: tuple[str, str, str]) -> str:
    cells = "\n".join(f"<tr><td>{c}</td><td>{m}</td><td>{p}</td></tr>" for c, m, p in rows)
    return PAGE.format(rows=cells)


@pytest.fixture
def fast_fetch(app):
    saved = {
        k: app.config[k]
        for k in (
            "MARKET_FETCH_DELAY_SECONDS",
            "MARKET_FETCH_RETRIES",
            "MARKET_FETCH_BACKOFF_SECONDS",
            "MARKET_FETCH_TIMEOUT_SECONDS",
        )
    }
    app.config.update(
        MARKET_FETCH_DELAY_SECONDS=0,
        MARKET_FETCH_RETRIES=1,
        MARKET_FETCH_BACKOFF_SECONDS=0,
        MARKET_FETCH_TIMEOUT_SECONDS=2,
    )
    yield
    app.config.update(saved)


def _source(server: HTTPServer, path: str, name: str = "Trang giá thử", **settings):
    source, _ = save_source(
        actor=None,
        name=name,
        kind="html_table",
        url=server.url_for(path),
        schedule="0 8 * * *",
        default_price_type="wholesale",
        settings={
            "table": "#gia",
            "date_from_heading": r"ngày (\d{1,2}/\d{1,2}/\d{4})",
            **settings,
        },
    )
    return source


def _count(model=PriceObservation) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _serve(server: HTTPServer, path: str, body: str | bytes, **kwargs) -> None:
    server.expect_request("/robots.txt").respond_with_data("", status=404)
    server.expect_request(path).respond_with_data(
        body, content_type="text/html; charset=utf-8", **kwargs
    )


@pytest.mark.usefixtures("fast_fetch")
def test_collecting_twice_stores_once_and_a_change_keeps_history(ctx, httpserver_ipv4) -> None:
    _serve(
        httpserver_ipv4,
        "/gia",
        page(
            ("Cà phê nhân xô", "Đắk Lắk", "86.933"),
            ("Hồ tiêu", "Gia Lai", "141.000"),
            ("Heo hơi", "Đồng Nai", "64.800 - 64.900"),
        ),
    )
    source = _source(httpserver_ipv4, "/gia")
    run = collect_source(source=source, today=TODAY)
    assert (run.status, run.parsed, run.stored, run.rejected) == ("ok", 3, 3, 0)
    coffee = db.session.scalar(
        select(PriceObservation).join(Commodity).where(Commodity.code == "ca_phe_robusta_nhan")
    )
    assert coffee.price == Decimal("86933") and coffee.unit_code == "kg"
    assert coffee.market.name == "Đắk Lắk" and coffee.observed_on == TODAY
    assert coffee.source_url == httpserver_ipv4.url_for("/gia")
    hog = db.session.scalar(
        select(PriceObservation).join(Commodity).where(Commodity.code == "lon_hoi")
    )
    assert (hog.price_min, hog.price_max, hog.price) == (64800, 64900, 64850)

    again = collect_source(source=source, today=TODAY)
    assert (again.stored, again.unchanged) == (0, 3)
    assert _count() == 3

    httpserver_ipv4.clear()
    _serve(
        httpserver_ipv4,
        "/gia",
        page(
            ("Cà phê nhân xô", "Đắk Lắk", "87.100"),
            ("Hồ tiêu", "Gia Lai", "141.000"),
            ("Heo hơi", "Đồng Nai", "64.800 - 64.900"),
        ),
    )
    changed = collect_source(source=source, today=TODAY)
    assert (changed.updated, changed.unchanged) == (1, 2)
    db.session.refresh(coffee)
    assert coffee.price == Decimal("87100")
    (revision,) = coffee.revisions
    assert revision.price == Decimal("86933") and revision.raw_text
    assert _count() == 3


@pytest.mark.usefixtures("fast_fetch")
def test_no_transaction_is_open_while_pages_are_fetched(ctx, httpserver_ipv4) -> None:
    """On SQLite an open writing transaction would keep every other writer waiting."""
    from market.prices.collect import make_fetcher

    _serve(httpserver_ipv4, "/gia", page(("Hồ tiêu", "Gia Lai", "141.000")))
    source = _source(httpserver_ipv4, "/gia")
    fetcher = make_fetcher(source)
    fetched_in_transaction = []
    plain_get = fetcher.get

    def get(url, **kwargs):
        fetched_in_transaction.append(db.session().in_transaction())
        return plain_get(url, **kwargs)

    fetcher.get = get
    run = collect_source(source=source, today=TODAY, fetcher=fetcher)
    assert run.error is None and run.stored == 1
    assert fetched_in_transaction == [False]


@pytest.mark.usefixtures("fast_fetch")
def test_former_province_names_and_local_markets(ctx, httpserver_ipv4) -> None:
    _serve(
        httpserver_ipv4,
        "/gia",
        page(
            ("Cà phê nhân xô", "Đắk Nông", "86.600"),
            ("Gạo tẻ thường", "Chợ Đông Hà", "15.000"),
            ("Hồ tiêu", "Tỉnh Quảng Bình", "140.000"),
        ),
    )
    run = collect_source(source=_source(httpserver_ipv4, "/gia"), today=TODAY)
    assert run.stored == 3, run.details
    markets = set(db.session.scalars(select(Market.name).join(PriceObservation)))
    assert markets == {"Lâm Đồng", "Chợ Đông Hà", "Quảng Trị"}


@pytest.mark.usefixtures("fast_fetch")
def test_unknown_names_are_held_then_stored_when_mapped(ctx, httpserver_ipv4, official) -> None:
    _serve(
        httpserver_ipv4,
        "/gia",
        page(
            ("Thóc Bắc Hương", "Đắk Lắk", "25.000"),
            ("Cà phê nhân xô", "Chợ Phiên Xa Lạ", "86.000"),
            ("Hồ tiêu", "Gia Lai", "141.000"),
        ),
    )
    source = _source(httpserver_ipv4, "/gia")
    run = collect_source(source=source, today=TODAY)
    assert (run.status, run.stored, run.unmapped) == ("partial", 1, 2)
    assert _count(HeldPrice) == 2
    officer = db.session.get(User, official.id)
    waiting = unmapped_names(actor=officer)
    assert {(n.name, held) for n, held in waiting} == {
        ("Thóc Bắc Hương", 1),
        ("Chợ Phiên Xa Lạ", 1),
    }
    names = {n.name: n for n, _held in waiting}

    paddy = db.session.scalar(select(Commodity).where(Commodity.code == "lua_kho"))
    assert map_name(actor=officer, name=names["Thóc Bắc Hương"], commodity_id=paddy.id) == 1
    dong_ha = db.session.scalar(select(Market).where(Market.code == "cho-dong-ha"))
    assert map_name(actor=officer, name=names["Chợ Phiên Xa Lạ"], market_id=dong_ha.id) == 1
    assert _count(HeldPrice) == 0 and _count() == 3

    # The mapping is remembered: the next run stores without holding anything.
    again = collect_source(source=source, today=TODAY)
    assert (again.unmapped, again.unchanged) == (0, 3)
    assert (
        db.session.scalar(
            select(UnmappedName.seen_count).where(UnmappedName.name == "Thóc Bắc Hương")
        )
        == 1
    )


@pytest.mark.usefixtures("fast_fetch")
def test_doubtful_value_is_flagged_not_published(ctx, httpserver_ipv4, official) -> None:
    from market.prices.services import review_observation

    source = _source(httpserver_ipv4, "/gia")
    coffee = db.session.scalar(select(Commodity).where(Commodity.code == "ca_phe_robusta_nhan"))
    dak_lak = db.session.scalar(select(Market).where(Market.code == "tinh-66"))
    for day in range(10):
        db.session.add(
            PriceObservation(
                source_id=source.id,
                commodity_id=coffee.id,
                market_id=dak_lak.id,
                price_type="wholesale",
                observed_on=TODAY - timedelta(days=day + 1),
                price=Decimal(86000 + day * 100),
                price_min=Decimal(86000 + day * 100),
                price_max=Decimal(86000 + day * 100),
                unit_code="kg",
            )
        )
    db.session.flush()
    _serve(httpserver_ipv4, "/gia", page(("Cà phê nhân xô", "Đắk Lắk", "869.330")))
    run = collect_source(source=source, today=TODAY)
    assert run.flagged == 1
    flagged = db.session.scalar(
        select(PriceObservation).where(PriceObservation.status == "flagged")
    )
    # Stored as the job renders it: in Vietnamese, with Vietnamese number formats (the
    # median of 86.000 … 86.900 is 86.450).
    assert flagged.flag_reason.startswith("giá 869.330 lệch ")
    assert flagged.flag_reason.endswith(" lần MAD so với trung vị gần đây 86.450")
    officer = db.session.get(User, official.id)
    from market.errors import DomainError

    with pytest.raises(DomainError):
        review_observation(actor=officer, observation=flagged, accept=False, reason="")
    review_observation(actor=officer, observation=flagged, accept=False, reason="Thừa một số 0")
    assert flagged.status == "rejected"


@pytest.mark.usefixtures("fast_fetch")
def test_unit_that_contradicts_the_commodity_is_flagged(ctx, httpserver_ipv4) -> None:
    body = PAGE.replace("Giá (đ/kg)", "Giá (đ/con)").format(
        rows="<tr><td>Lợn hơi</td><td>Quảng Trị</td><td>5.000.000</td></tr>"
    )
    _serve(httpserver_ipv4, "/gia", body)
    run = collect_source(source=_source(httpserver_ipv4, "/gia"), today=TODAY)
    assert run.flagged == 1
    row = db.session.scalar(select(PriceObservation))
    assert row.status == "flagged"
    assert row.flag_reason == "đơn vị con không phù hợp với mặt hàng tính giá theo kg"


@pytest.mark.usefixtures("fast_fetch")
def test_the_ministry_form_flow_end_to_end(ctx, httpserver_ipv4) -> None:
    from tests.prices.test_agro_mae import FakeSite

    site = FakeSite(httpserver_ipv4)
    source, _ = save_source(
        actor=None,
        name="Bộ NN&MT - cà phê",
        kind="agro_mae",
        url=site.url,
        settings={"product_group": "Cà phê"},
        default_price_type="wholesale",
    )
    run = collect_source(source=source, today=TODAY)
    assert site.problems == []
    assert run.pages == 4 and run.parsed == 9 and run.rejected == 1
    assert run.status == "partial"  # one row printed no price
    assert run.stored + run.unmapped + run.flagged == 9
    assert run.details["rejected"][0]["reason"] == "không ghi giá"  # "no price printed"

    site_empty = FakeSite(httpserver_ipv4, result_pages={"": "empty"})
    httpserver_ipv4.clear()
    site_empty = FakeSite(httpserver_ipv4, result_pages={"": "empty"})
    empty_run = collect_source(source=source, today=TODAY)
    assert site_empty.problems == []
    assert (empty_run.status, empty_run.parsed) == ("ok", 0)
    assert empty_run.details["empty"] is True


HOSTILE = {
    # Cut off in the middle of the second row, as a dropped connection leaves it.
    "truncated": lambda s: s.expect_request("/p").respond_with_data(
        page(("Cà phê nhân xô", "Đắk Lắk", "86.933"), ("Hồ tiêu", "Gia Lai", "141.000")).split(
            "<td>Gia"
        )[0]
        + "<td>Gi",
        content_type="text/html",
    ),
    "huge": lambda s: s.expect_request("/p").respond_with_data(
        b"<html>" + b"x" * (20 * 1024 * 1024), content_type="text/html"
    ),
    "error": lambda s: s.expect_request("/p").respond_with_data("oops", status=500),
    "slow": lambda s: s.expect_request("/p").respond_with_handler(
        lambda r: (time.sleep(3), Response("late"))[1]
    ),
    "loop": lambda s: s.expect_request("/p").respond_with_response(
        Response(status=302, headers={"Location": "/p"})
    ),
    "not_html": lambda s: s.expect_request("/p").respond_with_data(
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 50, content_type="image/png"
    ),
}


@pytest.mark.usefixtures("fast_fetch")
@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_pages_end_in_a_recorded_run(ctx, httpserver_ipv4, kind) -> None:
    httpserver_ipv4.expect_request("/robots.txt").respond_with_data("", status=404)
    HOSTILE[kind](httpserver_ipv4)
    _serve(httpserver_ipv4, "/good", page(("Hồ tiêu", "Gia Lai", "141.000")))
    bad = _source(httpserver_ipv4, "/p", name="Trang xấu")
    good = _source(httpserver_ipv4, "/good", name="Trang tốt")
    runs = {db.session.get(CollectionRun, r.id).source_id: r for r in collect_all(today=TODAY)}
    assert runs[bad.id].status in ("failed", "partial"), (
        runs[bad.id].parsed,
        runs[bad.id].stored,
        runs[bad.id].details,
    )
    if runs[bad.id].status == "failed":
        assert runs[bad.id].error
    assert runs[bad.id].stored <= 1  # what came before the cut may be stored
    assert (runs[good.id].status, runs[good.id].stored) == ("ok", 1)


@pytest.mark.usefixtures("fast_fetch")
def test_health_turns_bad_after_failures_or_when_rows_vanish(ctx, httpserver_ipv4) -> None:
    _serve(httpserver_ipv4, "/gia", page(("Hồ tiêu", "Gia Lai", "141.000")))
    source = _source(httpserver_ipv4, "/gia")
    collect_source(source=source, today=TODAY)
    assert source_health(source).ok
    httpserver_ipv4.clear()
    _serve(httpserver_ipv4, "/gia", PAGE.format(rows=""))
    collect_source(source=source, today=TODAY)
    health = source_health(source)
    assert not health.ok and "bố cục" in health.detail
    httpserver_ipv4.clear()
    httpserver_ipv4.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver_ipv4.expect_request("/gia").respond_with_data("down", status=503)
    for _ in range(3):
        collect_source(source=source, today=TODAY)
    assert not source_health(source).ok
    assert source_health(source).label == "đang lỗi"


def test_wrong_charset_page_is_read_right(ctx, httpserver_ipv4, fast_fetch) -> None:
    body = page(("Cà phê nhân xô", "Đắk Lắk", "86.933")).encode("utf-8")
    httpserver_ipv4.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver_ipv4.expect_request("/gia").respond_with_data(
        body, content_type="text/html; charset=iso-8859-1"
    )
    run = collect_source(source=_source(httpserver_ipv4, "/gia"), today=TODAY)
    assert run.stored == 1, run.details
