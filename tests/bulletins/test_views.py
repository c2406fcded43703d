"""The pages, downloads, feed and API of the bulletins, and who may use the desk."""

from __future__ import annotations

import csv
import io
from xml.etree import ElementTree as ET

import openpyxl
import pytest
from sqlalchemy import select

from market.accounts.models import User
from market.audit.models import AuditEvent
from market.bulletins import services
from market.bulletins.models import Bulletin
from market.extensions import db
from tests.bulletins.conftest import TODAY
from tests.conftest import log_in

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def published(app, prices, official) -> int:
    """The week's bulletin, published with a commentary; returns its id."""
    with app.test_request_context():
        bulletin = services.draft_bulletin(actor=None, period="week", today=TODAY).bulletin
        bulletin.commentary = "Giá **cà phê** tăng mạnh.\n\n<script>alert('x')</script>"
        services.publish_bulletin(actor=db.session.get(User, official.id), bulletin=bulletin)
        db.session.commit()
        return bulletin.id


def test_archive_and_bulletin_page(client, published) -> None:
    archive = client.get("/bulletins")
    assert archive.status_code == 200
    page = archive.get_data(as_text=True)
    assert "Bản tin giá cả thị trường tuần 16/2026" in page
    assert 'href="/bulletins.atom"' in page
    assert "Đăng nhập để nhận bản tin qua e-mail" in page
    assert '<a href="/bulletins" aria-current="page">Bản tin</a>' in page  # the main menu

    page = client.get(f"/bulletins/{published}").get_data(as_text=True)
    assert "<strong>cà phê</strong>" in page
    assert "<script>alert" not in page and "&lt;script&gt;" in page  # the typed tag as text
    assert "Cà phê vối (Robusta) nhân xô" in page and "Hồ tiêu đen" in page
    assert "86.400" in page and "+7,1 %" in page  # all markets: 86.400 đ/kg, +7,11 %
    assert "85.000" in page and "+6,2 %" in page  # Quảng Trị
    assert "87.333" not in page  # Đắk Lắk was not chosen for the table
    assert "Các thị trường (2)" in page and "Cảnh báo giá" in page
    assert "Biến động mạnh nhất so với tuần trước" in page
    assert "13/04/2026 – 19/04/2026" in page


def test_drafts_are_not_public(client, app, prices) -> None:
    with app.test_request_context():
        draft = services.draft_bulletin(actor=None, period="week", today=TODAY).bulletin
        db.session.commit()
        draft_id = draft.id
    for url in (
        f"/bulletins/{draft_id}",
        f"/bulletins/{draft_id}.pdf",
        f"/bulletins/{draft_id}.csv",
    ):
        assert client.get(url).status_code == 404
    assert client.get(f"/api/v1/bulletins/{draft_id}").status_code == 404
    assert client.get("/api/v1/bulletins").get_json()["total"] == 0
    assert "Chưa có bản tin nào" in client.get("/bulletins").get_data(as_text=True)


def test_csv_and_xlsx_hold_the_published_table(client, published) -> None:
    response = client.get(f"/bulletins/{published}.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert list(rows[0]) == services.TABLE_COLUMNS
    assert [(r["commodity_code"], r["market_code"]) for r in rows] == [
        ("ca_phe_robusta_nhan", ""),
        ("ca_phe_robusta_nhan", "tinh-44"),
        ("ho_tieu_den", "tinh-44"),
    ]
    assert rows[0]["average"] == "86400.0000" and rows[0]["change_previous_pct"] == "7.11"
    assert rows[0]["anomaly_level"] == "alert" and rows[0]["commodity_vi"].startswith("Cà phê")

    xlsx = client.get(f"/bulletins/{published}.xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx.data), read_only=True)
    sheet = list(workbook.active.iter_rows(values_only=True))
    workbook.close()
    assert list(sheet[0]) == services.TABLE_COLUMNS and len(sheet) == 4
    assert sheet[1][services.TABLE_COLUMNS.index("average")] == 86400


def test_atom_feed_is_valid_with_absolute_links(client, published) -> None:
    response = client.get("/bulletins.atom")
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{required}") is not None
    self_link = root.find(f"{ATOM}link[@rel='self']")
    assert self_link.get("href") == "http://market.test/bulletins.atom"
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 1
    entry = entries[0]
    assert entry.findtext(f"{ATOM}id") == "tag:market.test,2026:bulletin/week/2026-04-13"
    assert entry.findtext(f"{ATOM}title").startswith("Bản tin giá cả thị trường")
    assert entry.findtext(f"{ATOM}updated").endswith("Z")
    links = {link.get("type"): link.get("href") for link in entry.findall(f"{ATOM}link")}
    assert links["text/html"] == f"http://market.test/bulletins/{published}"
    assert links["application/pdf"] == f"http://market.test/bulletins/{published}.pdf"
    content = entry.find(f"{ATOM}content")
    assert content.get("type") == "html" and "<strong>cà phê</strong>" in content.text
    assert "<script" not in content.text


def test_api_lists_and_shows_bulletins(client, published) -> None:
    listing = client.get("/api/v1/bulletins").get_json()
    assert listing["total"] == 1 and listing["next"] is None
    (summary,) = listing["bulletins"]
    assert summary["id"] == published and summary["period"] == "week"
    assert summary["period_start"] == "2026-04-13" and summary["version"] == 1
    assert summary["pdf"] == f"http://market.test/bulletins/{published}.pdf"

    detail = client.get(f"/api/v1/bulletins/{published}").get_json()
    assert detail["current"] and detail["versions"] == [published]
    assert [i["market"] for i in detail["items"]] == [None, "tinh-44", "tinh-44"]
    coffee = detail["items"][0]
    assert coffee["average"] == 86400 and coffee["change_previous_pct"] == 7.11
    assert coffee["markets"] == 2 and coffee["anomaly"] == {"level": "alert", "method": "robust_z"}
    assert detail["movers"]["down"][0]["commodity"] == "ho_tieu_den"
    assert "<strong>cà phê</strong>" in detail["commentary_html"]
    assert client.get("/api/v1/bulletins/999999").status_code == 404
    bad = client.get("/api/v1/bulletins?page=x")
    assert bad.status_code == 400 and "error" in bad.get_json()


def test_members_get_403_at_the_desk(client, app, prices, member) -> None:
    with app.test_request_context():
        draft = services.draft_bulletin(actor=None, period="week", today=TODAY).bulletin
        db.session.commit()
        draft_id = draft.id
    assert client.get("/department/bulletins/").status_code == 302  # anonymous: log in first
    log_in(client, member)
    assert client.get("/department/bulletins/").status_code == 403
    assert client.post("/department/bulletins/draft", data={"period": "week"}).status_code == 403
    assert client.get(f"/department/bulletins/{draft_id}/edit").status_code == 403
    edit = {"title": "Bị sửa", "commentary": "x"}
    assert client.post(f"/department/bulletins/{draft_id}/edit", data=edit).status_code == 403
    assert client.get(f"/department/bulletins/{draft_id}/preview").status_code == 403
    assert client.post(f"/department/bulletins/{draft_id}/publish").status_code == 403
    assert client.post(f"/department/bulletins/{draft_id}/discard").status_code == 403
    assert client.post(f"/department/bulletins/{draft_id}/correct", data=edit).status_code == 403
    with app.app_context():
        bulletin = db.session.get(Bulletin, draft_id)
        assert bulletin.is_draft and bulletin.title != "Bị sửa"
    assert "Soạn bản tin" not in client.get("/bulletins").get_data(as_text=True)


def test_an_official_drafts_edits_previews_and_publishes(client, app, prices, official) -> None:
    log_in(client, official)
    desk = client.get("/department/bulletins/")
    assert desk.status_code == 200 and "Lập bản nháp" in desk.get_data(as_text=True)
    response = client.post(
        "/department/bulletins/draft", data={"period": "week", "day": "2026-04-15"}
    )
    assert response.status_code == 302 and response.location.endswith("/edit")
    with app.app_context():
        bulletin = db.session.scalar(select(Bulletin))
        items = {
            (i.commodity.code, i.market.code if i.market else None): i.id for i in bulletin.items
        }
        bulletin_id = bulletin.id
    page = client.get(response.location).get_data(as_text=True)
    assert "Sửa bản tin" in page and f'name="item-{items[("ho_tieu_den", "tinh-44")]}-note"' in page

    form = {
        "title": "Bản tin giá tuần 16",
        "commentary": "Giá *hồ tiêu* giảm.",
        "section-prices": "y",
        "section-prices-position": "1",
        "section-commentary": "y",
        "section-commentary-position": "2",
    }
    for key, item_id in items.items():
        form[f"item-{item_id}-position"] = "10"
        if key[1] != "tinh-66":
            form[f"item-{item_id}-included"] = "y"
    form[f"item-{items[('ho_tieu_den', 'tinh-44')]}-position"] = "nhất"  # not a number
    response = client.post(f"/department/bulletins/{bulletin_id}/edit", data=form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Hãy nhập số nguyên." in page and 'value="nhất"' in page
    assert "Giá *hồ tiêu* giảm." in page  # what was typed is still there

    form[f"item-{items[('ho_tieu_den', 'tinh-44')]}-position"] = "5"
    form[f"item-{items[('ho_tieu_den', 'tinh-44')]}-note"] = "Vĩnh Linh, tiêu xô"
    form["action"] = "preview"
    response = client.post(f"/department/bulletins/{bulletin_id}/edit", data=form)
    assert response.status_code == 302 and response.location.endswith("/preview")
    preview = client.get(response.location).get_data(as_text=True)
    assert "Xem trước" in preview and "<em>hồ tiêu</em>" in preview
    assert "Vĩnh Linh, tiêu xô" in preview
    # The price table first, then the commentary; pepper first in the table; no movers.
    assert preview.index("Giá trong tuần") < preview.index("<h2>Nhận định</h2>")
    assert preview.index("Hồ tiêu đen") < preview.index("Cà phê vối")
    assert "Biến động mạnh nhất" not in preview
    pdf = client.get(f"/department/bulletins/{bulletin_id}/preview.pdf")
    assert pdf.data.startswith(b"%PDF")

    response = client.post(f"/department/bulletins/{bulletin_id}/publish")
    assert response.status_code == 302 and response.location == f"/bulletins/{bulletin_id}"
    public = client.get(response.location).get_data(as_text=True)
    assert "Đã xuất bản. 0 người đăng ký" in public and "Bản tin giá tuần 16" in public
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.subject_type == "bulletin")
        ).all()
        assert "bulletin.edited" in actions and "bulletin.published" in actions
    # Drafting the published week again is refused with a clear message.
    again = client.post("/department/bulletins/draft", data={"period": "week", "day": "2026-04-15"})
    assert again.status_code == 400 and "đã được xuất bản" in again.get_data(as_text=True)


def test_correction_from_the_desk(client, app, published, official) -> None:
    log_in(client, official)
    page = client.get(f"/department/bulletins/{published}/preview").get_data(as_text=True)
    assert "Đính chính bản tin này" in page
    empty = client.post(f"/department/bulletins/{published}/correct", data={"note": ""})
    assert empty.status_code == 400
    response = client.post(
        f"/department/bulletins/{published}/correct", data={"note": "Sửa giá hồ tiêu."}
    )
    assert response.status_code == 302 and response.location.endswith("/edit")
    page = client.get(response.location).get_data(as_text=True)
    assert "Sửa giá hồ tiêu." in page and "phiên bản 2" in page


def test_subscribing_from_the_archive(client, app, member) -> None:
    log_in(client, member)
    page = client.get("/bulletins").get_data(as_text=True)
    assert "Nhận bản tin qua e-mail" in page
    response = client.post("/bulletins/subscribe")
    assert response.status_code == 302
    page = client.get("/bulletins").get_data(as_text=True)
    assert "Bạn đang nhận mỗi bản tin mới qua e-mail." in page
    with app.app_context():
        assert [u.id for u in services.subscribers()] == [member.id]
    client.post("/bulletins/unsubscribe")
    with app.app_context():
        assert services.subscribers() == []
    # The e-mail settings page offers the kind (immediately or off, no digest).
    settings = client.get("/account/email").get_data(as_text=True)
    assert "Bản tin giá cả" in settings


def test_subscribing_needs_an_account(client) -> None:
    response = client.post("/bulletins/subscribe")
    assert response.status_code == 302 and "/login" in response.location


def test_api_404_is_the_apps_translated_json_error(client, published) -> None:
    missing = client.get("/api/v1/bulletins/999999")
    assert missing.status_code == 404
    assert missing.get_json() == {
        "error": {"status": 404, "message": "Trang này không tồn tại hoặc đã được chuyển đi."}
    }


def test_drafting_at_the_same_time_as_the_job_is_a_message(
    client, app, prices, official, monkeypatch
) -> None:
    with app.test_request_context():
        services.draft_bulletin(actor=None, period="week", today=TODAY)  # the Monday job
        db.session.commit()
        message = str(services.DRAFTED_ELSEWHERE)  # in Vietnamese once translated
    monkeypatch.setattr(services, "latest_version", lambda kind, start: None)  # not seen yet
    log_in(client, official)
    response = client.post(
        "/department/bulletins/draft", data={"period": "week", "day": "2026-04-15"}
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_a_long_row_note_is_marked_on_its_row(client, app, prices, official) -> None:
    log_in(client, official)
    edit = client.post(
        "/department/bulletins/draft", data={"period": "week", "day": "2026-04-15"}
    ).location
    page = client.get(edit).get_data(as_text=True)
    assert f'maxlength="{services.MAX_NOTE}"' in page and 'maxlength="500"' in page
    with app.app_context():
        bulletin = db.session.scalar(select(Bulletin))
        item_ids = [i.id for i in bulletin.items]
    long_note = "Ghi chú dài " + "x" * services.MAX_NOTE
    form = {"title": "Bản tin", "commentary": "", "section-prices": "y"}
    for item_id in item_ids:
        form[f"item-{item_id}-position"] = "10"
        form[f"item-{item_id}-included"] = "y"
    form[f"item-{item_ids[1]}-note"] = long_note
    response = client.post(edit, data=form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'value="{long_note}"' in page  # what was typed is still there
    checkbox = page.index(f'name="item-{item_ids[1]}-included"')
    row = page[page.rindex("<tr", 0, checkbox) : page.index("</tr>", checkbox)]
    assert 'class="has-error"' in row and "Tối đa 500 ký tự." in row
    with app.app_context():
        assert db.session.scalar(select(Bulletin)).title != "Bản tin"
