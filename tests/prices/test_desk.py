"""The department's price desk through the web: manual entry, file import, review, sources."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
from sqlalchemy import func, select

from market.audit.models import AuditEvent
from market.catalogue.models import Commodity, Market
from market.extensions import db
from market.prices.models import PriceObservation, PriceSeries, PriceSource
from tests.conftest import log_in


def _ids(app) -> dict[str, int]:
    with app.app_context():
        return {
            "coffee": db.session.scalar(
                select(Commodity.id).where(Commodity.code == "ca_phe_robusta_nhan")
            ),
            "hog": db.session.scalar(select(Commodity.id).where(Commodity.code == "lon_hoi")),
            "dak_lak": db.session.scalar(select(Market.id).where(Market.code == "tinh-66")),
            "dong_ha": db.session.scalar(select(Market.id).where(Market.code == "cho-dong-ha")),
        }


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(PriceObservation.id)))


def test_members_cannot_use_the_desk(client, member) -> None:
    log_in(client, member)
    for url in (
        "/department/prices/",
        "/department/prices/new",
        "/department/prices/import",
        "/department/prices/review",
        "/department/prices/unmapped",
    ):
        assert client.get(url).status_code == 403, url


def test_official_enters_a_price_by_hand(app, client, official) -> None:
    ids = _ids(app)
    log_in(client, official)
    form = client.get("/department/prices/new").get_data(as_text=True)
    assert "Nhập giá" in form
    response = client.post(
        "/department/prices/new",
        data={
            "commodity_id": ids["hog"],
            "market_id": ids["dong_ha"],
            "price_type": "farm_gate",
            "price": "62.000 - 63.000",
            "unit_code": "kg",
            "observed_on": "2026-04-17",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        row = db.session.scalar(select(PriceObservation))
        assert (row.price_min, row.price_max, row.price) == (62000, 63000, 62500)
        assert row.source.kind == "manual" and row.entered_by_id == official.id
        assert db.session.scalar(select(AuditEvent.action)) == "price.entered"
    # Published at once: the board shows it.
    assert "62.500" in client.get("/prices?q=lon+hoi").get_data(as_text=True)


def test_manual_entry_errors_keep_the_values(app, client, official) -> None:
    ids = _ids(app)
    log_in(client, official)
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    response = client.post(
        "/department/prices/new",
        data={
            "commodity_id": ids["coffee"],
            "market_id": ids["dak_lak"],
            "price_type": "wholesale",
            "price": "tám mươi",
            "unit_code": "kg",
            "observed_on": tomorrow,
        },
    )
    page = response.get_data(as_text=True)
    assert "Hãy ghi giá bằng số" in page
    assert 'value="tám mươi"' in page
    response = client.post(
        "/department/prices/new",
        data={
            "commodity_id": ids["coffee"],
            "market_id": ids["dak_lak"],
            "price_type": "wholesale",
            "price": "86.900",
            "unit_code": "tan",
            "observed_on": tomorrow,
        },
    )
    assert "Ngày không được ở tương lai." in response.get_data(as_text=True)
    assert _count(app) == 0


def test_price_per_tonne_is_stored_per_kg(app, client, official) -> None:
    ids = _ids(app)
    log_in(client, official)
    client.post(
        "/department/prices/new",
        data={
            "commodity_id": ids["coffee"],
            "market_id": ids["dak_lak"],
            "price_type": "wholesale",
            "price": "86,9 triệu",
            "unit_code": "tan",
            "observed_on": "2026-04-17",
        },
    )
    with app.app_context():
        row = db.session.scalar(select(PriceObservation))
        assert row.price == Decimal("86900") and row.unit_code == "kg"


CSV = (
    "Mặt hàng;Thị trường;Loại giá;Giá;Đơn vị;Ngày\n"
    "Cà phê nhân xô;Đắk Lắk;bán buôn;86.933;đ/kg;17/04/2026\n"
    "Lợn hơi;Quảng Trị;thu mua;62.000 - 63.000;đ/kg;17/04/2026\n"
    "Nấm mối rừng;Đắk Lắk;bán buôn;90.000;đ/kg;17/04/2026\n"
    "Hồ tiêu;Gia Lai;bán buôn;không rõ;đ/kg;17/04/2026\n"
)


def _upload(client, data: bytes, name: str):
    return client.post(
        "/department/prices/import",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_import_previews_every_row_and_stores_all_accepted_at_once(app, client, official) -> None:
    log_in(client, official)
    response = _upload(client, CSV.encode("utf-8"), "gia.csv")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.count("badge-verified") == 2  # two new prices
    assert "mặt hàng “Nấm mối rừng” chưa có trong danh mục" in page  # unknown commodity
    assert "Hồ tiêu | Gia Lai" in page
    assert "không đọc được giá “không rõ”" in page  # cannot read the price
    assert _count(app) == 0  # a preview stores nothing
    token = page.split("/department/prices/import/")[1].split('"')[0]
    response = client.post(f"/department/prices/import/{token}", data={"decision": "import"})
    assert response.status_code == 302
    assert _count(app) == 2
    with app.app_context():  # both reach the board's series
        assert db.session.scalar(select(func.count(PriceSeries.id))) == 2
    # The same file again: both already there, nothing new.
    page = _upload(client, CSV.encode("utf-8"), "gia.csv").get_data(as_text=True)
    assert "Nhập 0 giá" in page


def test_import_xlsx_and_cancel(app, client, official) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Mặt hàng", "Thị trường", "Giá", "Đơn vị", "Ngày"])
    sheet.append(["Hồ tiêu", "Gia Lai", 141000, "đ/kg", date(2026, 4, 17)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    workbook.close()
    log_in(client, official)
    page = _upload(client, buffer.getvalue(), "gia.xlsx").get_data(as_text=True)
    assert "Nhập 1 giá" in page
    token = page.split("/department/prices/import/")[1].split('"')[0]
    client.post(f"/department/prices/import/{token}", data={"decision": "cancel"})
    assert _count(app) == 0
    response = client.post(
        f"/department/prices/import/{token}", data={"decision": "import"}, follow_redirects=True
    )
    assert "Lần nhập này đã hết hạn" in response.get_data(as_text=True)


def test_import_without_the_needed_columns(client, official) -> None:
    log_in(client, official)
    page = _upload(client, b"Ten;Gia\nX;1\n", "sai.csv").get_data(as_text=True)
    assert "Tệp cần các cột" in page


def test_admin_saves_a_source_with_clear_errors(app, client, admin_account, official) -> None:
    log_in(client, official)
    assert client.get("/department/prices/sources/new").status_code == 200
    response = client.post(
        "/department/prices/sources/new",
        data={
            "name": "Thử",
            "kind": "html_table",
            "url": "http://127.0.0.1/x",
            "schedule": "",
            "default_price_type": "wholesale",
            "settings": "{}",
        },
    )
    assert response.status_code == 403  # officials watch sources; admins change them
    client.post("/logout")
    log_in(client, admin_account)
    response = client.post(
        "/department/prices/sources/new",
        data={
            "name": "Giá Sở Công Thương",
            "kind": "html_table",
            "url": "http://127.0.0.1/x",
            "schedule": "mỗi sáng",
            "default_price_type": "wholesale",
            "settings": "{not json",
            "enabled": "y",
        },
    )
    page = response.get_data(as_text=True)
    assert "JSON" in page and 'value="mỗi sáng"' in page
    response = client.post(
        "/department/prices/sources/new",
        data={
            "name": "Giá Sở Công Thương",
            "kind": "html_table",
            "url": "http://127.0.0.1/x",
            "schedule": "mỗi sáng",
            "default_price_type": "wholesale",
            "settings": '{"table": "#gia"}',
            "enabled": "y",
        },
    )
    assert "không phải biểu thức cron" in response.get_data(as_text=True)
    response = client.post(
        "/department/prices/sources/new",
        data={
            "name": "Giá Sở Công Thương",
            "kind": "html_table",
            "url": "http://127.0.0.1/x",
            "schedule": "30 8 * * 1-6",
            "default_price_type": "wholesale",
            "settings": '{"table": "#gia"}',
            "enabled": "y",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        source = db.session.scalar(
            select(PriceSource).where(PriceSource.name == "Giá Sở Công Thương")
        )
        assert source.settings == {"table": "#gia"} and source.schedule == "30 8 * * 1-6"


def test_collect_now_on_a_switched_off_source_says_why(app, client, official) -> None:
    with app.app_context():
        from market.prices.services import save_source

        source, _ = save_source(
            actor=None, name="Tắt", kind="html_table", url="http://127.0.0.1/x", settings={}
        )
        source.enabled = False
        db.session.commit()
        source_id = source.id
    log_in(client, official)
    page_url = f"/department/prices/sources/{source_id}"
    response = client.post(
        f"{page_url}/collect", headers={"Referer": f"http://localhost{page_url}"}
    )
    assert response.status_code == 302 and response.headers["Location"] == page_url
    assert "đang tắt" in client.get(page_url).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(PriceSource, source_id).run_requested_at is None


def test_unknown_names_page_counts_the_held_prices(app, client, official) -> None:
    from market.prices.models import HeldPrice, UnmappedName
    from market.prices.services import save_source

    with app.app_context():
        source, _ = save_source(
            actor=None, name="Nguồn lạ", kind="html_table", url="http://127.0.0.1/x", settings={}
        )
        name = UnmappedName(kind="commodity", name="Thóc Bắc Hương", name_folded="thoc bac huong")
        name.source_id = source.id
        db.session.add(name)
        db.session.flush()
        for _ in range(3):
            db.session.add(HeldPrice(source_id=source.id, commodity_name_id=name.id, payload={}))
        db.session.commit()
    log_in(client, official)
    page = client.get("/department/prices/unmapped").get_data(as_text=True)
    assert (
        "Thóc Bắc Hương" in page and '<td data-label="Giá đang giữ lại" class="num">3</td>' in page
    )
