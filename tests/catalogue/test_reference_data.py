from sqlalchemy import func, select

from market.catalogue import services
from market.catalogue.models import HOME_PROVINCE_CODE, Commodity, Province, Unit, Ward
from market.extensions import db


def test_reference_data_loaded(ctx) -> None:
    assert db.session.scalar(select(func.count()).select_from(Province)) == 34
    assert db.session.scalar(select(func.count()).select_from(Ward)) == 3321
    home = services.home_wards()
    assert len(home) == 78
    khe_sanh = db.session.get(Ward, "19429")
    assert khe_sanh.name == "Xã Khe Sanh"
    assert khe_sanh.province_code == HOME_PROVINCE_CODE
    assert khe_sanh.former_district == "Huyện Hướng Hóa"
    assert 16 < khe_sanh.lat < 18 and 106 < khe_sanh.lon < 107
    assert db.session.scalar(select(func.count()).select_from(Commodity)) == 79
    assert db.session.get(Unit, "tan").factor_to_base == 1000
    assert db.session.get(Unit, "bao").factor_to_base is None


def test_second_load_changes_nothing(ctx) -> None:
    report = services.load_reference_data()
    assert not report.changed, report.summary()


def test_load_repairs_a_changed_row(ctx) -> None:
    ward = db.session.get(Ward, "19429")
    ward.name = "Xã Sai Tên"
    db.session.flush()
    report = services.load_reference_data()
    assert report.updated["ward"] == 1
    assert db.session.get(Ward, "19429").name == "Xã Khe Sanh"


def test_commodity_search_ignores_accents(ctx) -> None:
    codes = {c.code for c in services.find_commodities(query="ca phe")}
    assert "ca_phe_robusta_nhan" in codes and "ca_phe_arabica_nhan" in codes
    assert "lon_hoi" in {c.code for c in services.find_commodities(query="heo hoi")}
    assert "ho_tieu_den" in {c.code for c in services.find_commodities(query="Hồ TIÊU")}
    assert services.find_commodities(query="   ") == []


def test_provinces_start_with_home(ctx) -> None:
    provinces = services.provinces()
    assert provinces[0].code == HOME_PROVINCE_CODE
    assert provinces[0].short_name == "Quảng Trị"


def test_wards_api(client) -> None:
    response = client.get("/api/v1/wards?province=44")
    assert response.status_code == 200
    names = [w["name"] for w in response.get_json()]
    assert len(names) == 78 and "Xã Khe Sanh" in names
    assert client.get("/api/v1/wards").get_json() == []
