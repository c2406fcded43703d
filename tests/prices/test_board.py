"""The price board, commodity pages, downloads and the JSON API over a small known dataset."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import select

from market.catalogue.models import Commodity, Market
from market.extensions import db
from market.prices.models import PriceObservation, PriceSeries, PriceSource
from market.prices.series import rebuild_all
from tests.conftest import log_in

LAST = date(2026, 4, 17)


def _add(source, commodity, market, day, price, price_type="wholesale", status="ok"):
    db.session.add(
        PriceObservation(
            source_id=source.id,
            commodity_id=commodity.id,
            market_id=market.id,
            price_type=price_type,
            observed_on=day,
            price=Decimal(price),
            price_min=Decimal(price),
            price_max=Decimal(price),
            unit_code="kg",
            status=status,
            raw_text=f"{price} đ/kg",
        )
    )


@pytest.fixture
def dataset(app, database):
    """Coffee in two markets with known prices on known days; one pepper price."""
    with app.app_context():
        source = PriceSource(
            name="Nguồn thử", kind="html_table", url="http://127.0.0.1/x", settings={}
        )
        db.session.add(source)
        db.session.flush()
        coffee = db.session.scalar(select(Commodity).where(Commodity.code == "ca_phe_robusta_nhan"))
        pepper = db.session.scalar(select(Commodity).where(Commodity.code == "ho_tieu_den"))
        dak_lak = db.session.scalar(select(Market).where(Market.code == "tinh-66"))
        quang_tri = db.session.scalar(select(Market).where(Market.code == "tinh-44"))
        _add(source, coffee, dak_lak, LAST - timedelta(days=365), 50000)
        _add(source, coffee, dak_lak, LAST - timedelta(days=30), 80000)
        _add(source, coffee, dak_lak, LAST - timedelta(days=7), 84000)
        _add(source, coffee, dak_lak, LAST - timedelta(days=1), 85000)
        _add(source, coffee, dak_lak, LAST, 86000)
        other = PriceSource(
            name="Nguồn thứ hai", kind="html_table", url="http://127.0.0.1/y", settings={}
        )
        db.session.add(other)
        db.session.flush()
        _add(other, coffee, dak_lak, LAST, 88000)  # another source the same day: mean 87.000
        # Not published: flagged and rejected prices never reach the board.
        _add(source, coffee, dak_lak, LAST + timedelta(days=1), 999000, status="flagged")
        _add(source, coffee, quang_tri, LAST, 84500)
        _add(source, pepper, quang_tri, LAST, 141000)
        rebuild_all()
        db.session.commit()
        return {"coffee": coffee.id, "dak_lak": dak_lak.id, "quang_tri": quang_tri.id}


def test_series_summary_has_the_hand_computed_changes(app, dataset) -> None:
    with app.app_context():
        s = db.session.scalar(
            select(PriceSeries).where(
                PriceSeries.commodity_id == dataset["coffee"],
                PriceSeries.market_id == dataset["dak_lak"],
            )
        )
        assert s.last_on == LAST and s.last_price == Decimal("87000")
        assert s.prev_price == Decimal("85000")
        assert s.price_7d == Decimal("84000") and s.price_30d == Decimal("80000")
        assert s.price_365d == Decimal("50000")
        assert s.change(s.prev_price) == pytest.approx((87000 - 85000) / 85000 * 100)
        assert s.change(s.price_365d) == pytest.approx(74.0)
        assert s.observations == 6  # the flagged one is not counted


def test_board_shows_latest_prices_and_changes(client, dataset) -> None:
    page = client.get("/prices").get_data(as_text=True)
    assert "Giá nông sản" in page
    assert "87.000" in page and "84.500" in page and "141.000" in page
    assert "999.000" not in page
    assert "+74,0 %" in page  # over a year, Vietnamese number format
    assert "+2,4 %" in page  # since the previous price: 85.000 → 87.000
    # Quảng Trị's own market is listed first for coffee.
    coffee = page[page.index("Cà phê vối") :]
    assert coffee.index("Quảng Trị") < coffee.index("Đắk Lắk")


@pytest.mark.parametrize(
    "query, present, absent",
    [
        ("ca phe", "Cà phê vối", "Hồ tiêu"),
        ("CÀ PHÊ", "Cà phê vối", "Hồ tiêu"),
        ("ho tieu", "Hồ tiêu", "Cà phê vối"),
        ("pepper", "Hồ tiêu", "Cà phê vối"),
    ],
)
def test_board_search_ignores_accents(client, dataset, query, present, absent) -> None:
    page = client.get("/prices", query_string={"q": query}).get_data(as_text=True)
    assert present in page and absent not in page


def test_board_filters_by_market_and_type(client, dataset) -> None:
    page = client.get("/prices", query_string={"market": dataset["dak_lak"]}).get_data(as_text=True)
    assert "87.000" in page and "84.500" not in page
    page = client.get("/prices", query_string={"type": "retail"}).get_data(as_text=True)
    assert "Không có giá nào phù hợp" in page


def test_board_csv_has_the_documented_columns(client, dataset) -> None:
    response = client.get("/prices.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    from market.prices.views import BOARD_COLUMNS

    assert list(rows[0]) == BOARD_COLUMNS
    coffee = next(
        r
        for r in rows
        if r["commodity_code"] == "ca_phe_robusta_nhan" and r["market_code"] == "tinh-66"
    )
    assert coffee["price"] == "87000.0000" and coffee["date"] == "2026-04-17"
    assert coffee["change_365d_pct"] == "74.0"


def test_commodity_page_and_its_downloads_match(client, dataset) -> None:
    page = client.get("/prices/ca_phe_robusta_nhan?period=all&grain=day").get_data(as_text=True)
    assert '<svg class="chart"' in page and "Nguồn thứ hai" in page
    response = client.get("/prices/ca_phe_robusta_nhan.csv?period=all&grain=day")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    last = [r for r in rows if r["market_code"] == "tinh-66" and r["period_start"] == "2026-04-17"]
    assert last[0]["price_mean"] == "87000.00" and last[0]["price_min"] == "86000.0000"
    assert len(rows) == 6  # five days in Đắk Lắk, one in Quảng Trị
    xlsx = client.get("/prices/ca_phe_robusta_nhan.xlsx?period=all&grain=day")
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx.data), read_only=True)
    sheet_rows = list(workbook.active.iter_rows(values_only=True))
    workbook.close()
    assert len(sheet_rows) == 7 and sheet_rows[0][0] == "commodity_code"
    monthly = client.get("/prices/ca_phe_robusta_nhan.csv?period=all&grain=month")
    months = list(csv.DictReader(io.StringIO(monthly.get_data(as_text=True).lstrip("\ufeff"))))
    april = [
        r for r in months if r["market_code"] == "tinh-66" and r["period_start"] == "2026-04-01"
    ]
    # The mean of the daily values 84.000 (10/4), 85.000 (16/4) and 87.000 (17/4).
    assert april[0]["price_mean"] == "85333.33"
    assert april[0]["days_observed"] == "3"


def test_unknown_commodity_is_404(client) -> None:
    assert client.get("/prices/khong_co").status_code == 404


def test_api(client, dataset) -> None:
    commodities = client.get("/api/v1/commodities").get_json()["commodities"]
    assert len(commodities) == 79 and {"code", "name_vi", "aliases"} <= set(commodities[0])
    body = client.get(
        "/api/v1/prices?commodity=ca_phe_robusta_nhan&market=tinh-66&per_page=2"
    ).get_json()
    assert body["total"] == 6 and len(body["prices"]) == 2 and body["next"]
    assert body["prices"][0]["date"] == "2026-04-17" and body["prices"][0]["unit"] == "kg"
    assert isinstance(body["prices"][0]["price"], float)
    again = client.get(body["next"].replace("http://localhost", "")).get_json()
    assert again["page"] == 2
    ranged = client.get("/api/v1/prices?from=2026-04-10&to=2026-04-16").get_json()
    assert {p["date"] for p in ranged["prices"]} == {"2026-04-10", "2026-04-16"}
    bad = client.get("/api/v1/prices?from=17/04/2026")
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.get_json()["error"]["message"]
    assert client.get("/api/v1/prices?commodity=khong_co").status_code == 400
    latest = client.get("/api/v1/prices/latest?commodity=ca_phe_robusta_nhan").get_json()["latest"]
    dak_lak = next(r for r in latest if r["market"] == "tinh-66")
    assert dak_lak["price"] == 87000.0 and round(dak_lak["change_pct"]["365d"], 1) == 74.0


def test_price_context_against_this_week(ctx, dataset) -> None:
    from market.prices.context import price_context

    context = price_context(
        commodity_code="ca_phe_robusta_nhan", price=Decimal(92000), unit_code="kg", on=LAST
    )
    # This week: 85.000 (16/4), 86.000 and 88.000 (17/4, Đắk Lắk), 84.500 (Quảng Trị).
    assert context.observations == 4 and context.median == Decimal("85500")
    assert context.scope == "national"
    assert round(context.difference_pct, 1) == round((92000 - 85500) / 85500 * 100, 1)
    assert context.sentence() == "Cao hơn 8 % so với trung vị cả nước tuần này."
    per_tonne = price_context(
        commodity_code="ca_phe_robusta_nhan", price=Decimal(85_500_000), unit_code="tan", on=LAST
    )
    assert abs(per_tonne.difference_pct) < 0.01
    assert price_context(commodity_code="lon_hoi", on=LAST) is None


def test_public_pages_are_shared_until_the_prices_change(app, client, dataset, member) -> None:
    import time

    from market.site.pagecache import VERSION_TTL

    first = client.get("/prices")
    assert first.headers.get("ETag")
    again = client.get("/prices", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    with app.app_context():
        s = db.session.scalar(
            select(PriceSeries).where(
                PriceSeries.commodity_id == dataset["coffee"],
                PriceSeries.market_id == dataset["dak_lak"],
            )
        )
        source = db.session.scalar(select(PriceSource).where(PriceSource.name == "Nguồn thử"))
        coffee = db.session.get(Commodity, dataset["coffee"])
        _add(source, coffee, s.market, LAST + timedelta(days=2), 91000)
        db.session.flush()
        from market.prices.series import key_of, refresh_series

        refresh_series(
            key_of(
                db.session.scalar(
                    select(PriceObservation).where(PriceObservation.price == Decimal(91000))
                )
            )
        )
        db.session.commit()
    time.sleep(VERSION_TTL + 0.1)
    fresh = client.get("/prices", headers={"If-None-Match": first.headers["ETag"]})
    assert fresh.status_code == 200 and "91.000" in fresh.get_data(as_text=True)
    # Signed-in visitors always get their own page (their name is on it), with no ETag.
    log_in(client, member)
    mine = client.get("/prices")
    assert "Nguyễn Văn A" in mine.get_data(as_text=True) and "ETag" not in mine.headers
    assert "91.000" in mine.get_data(as_text=True)


def test_signed_in_readers_share_the_rendered_board(client, dataset, member, monkeypatch) -> None:
    """Only the layout is rendered per signed-in reader: the board and commodity bodies come
    from the shared rendering while the prices are unchanged."""
    from market.prices import series

    board = client.get("/prices").get_data(as_text=True)
    coffee = client.get("/prices/ca_phe_robusta_nhan").get_data(as_text=True)

    def unchanged(*_args, **_kwargs):
        raise AssertionError("the board was computed again although no price changed")

    monkeypatch.setattr(series, "board", unchanged)
    monkeypatch.setattr("market.prices.views._selection", unchanged)
    log_in(client, member)
    mine = client.get("/prices").get_data(as_text=True)
    assert "Nguyễn Văn A" in mine and "Nguyễn Văn A" not in board
    shared = board[board.index("<h1>") : board.index("</main>")].rsplit('<p class="small muted">')[
        0
    ]
    assert "Cà phê" in shared and shared in mine
    assert "My price alerts" in mine or "Cảnh báo giá của tôi" in mine
    my_coffee = client.get("/prices/ca_phe_robusta_nhan").get_data(as_text=True)
    assert coffee[coffee.index("<h1>") : coffee.index("</main>")] in my_coffee


def test_public_pages_carry_no_form_token(client, dataset) -> None:
    page = client.get("/prices").get_data(as_text=True)
    assert "csrf_token" not in page
    assert "/language/en?next=" in page
    response = client.get("/language/en?next=/prices")
    assert response.status_code == 302 and response.headers["Location"] == "/prices"
    assert "Farm produce prices" in client.get("/prices").get_data(as_text=True)


def test_arguments_a_page_does_not_read_share_its_rendering(client, dataset, monkeypatch) -> None:
    """A link shared on social networks comes back with "?fbclid=…" on every visit."""
    from market.prices import series

    first = client.get("/prices?category=cay_cong_nghiep")
    client.get("/prices/ca_phe_robusta_nhan?period=5y")

    def unchanged(*_args, **_kwargs):
        raise AssertionError("rendered again for an argument the page does not read")

    monkeypatch.setattr(series, "board", unchanged)
    monkeypatch.setattr("market.prices.views._selection", unchanged)
    again = client.get("/prices?fbclid=IwAR0abc&category=cay_cong_nghiep")
    assert again.get_data() == first.get_data() and again.headers["ETag"] == first.headers["ETag"]
    page = client.get("/prices/ca_phe_robusta_nhan?period=5y&utm_source=zalo")
    assert page.status_code == 200 and "utm_source" not in page.get_data(as_text=True)


def test_a_warning_shows_as_a_badge_on_the_board_and_the_commodity_page(app, client, dataset):
    with app.app_context():
        s = db.session.scalar(
            select(PriceSeries).where(PriceSeries.commodity_id == dataset["coffee"])
        )
        s.anomaly_level, s.anomaly_method, s.anomaly_value = "alert", "ipa", 1.25
        s.anomaly_quality = 0.9
        db.session.commit()
    for url in ("/prices", "/prices/ca_phe_robusta_nhan"):
        page = client.get(url).get_data(as_text=True)
        assert 'class="badge warn-alert"' in page and "1,25" in page, url
