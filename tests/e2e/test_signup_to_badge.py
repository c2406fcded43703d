"""A cooperative signs up, confirms its e-mail, fills in its profile; an official verifies it."""

from __future__ import annotations

from market.alerts.services import deliver_outbox
from market.extensions import db
from tests.conftest import create_staff
from tests.e2e.conftest import no_horizontal_scroll


def test_cooperative_signs_up_and_gets_verified(live_server, browser, phone) -> None:
    base = live_server.url
    page = phone

    page.goto(base + "/")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert no_horizontal_scroll(page)

    page.goto(base + "/signup")
    page.get_by_label("Hợp tác xã", exact=True).check()
    page.get_by_label("Tên hợp tác xã, hộ hoặc công ty").fill("HTX Rau sạch Cam Lộ")
    page.get_by_label("Họ và tên").fill("Lê Thị Hồng")
    page.get_by_label("Địa chỉ e-mail").fill("hong.camlo@example.com")
    page.get_by_label("Mật khẩu", exact=True).fill("rau-sạch-2026")
    page.get_by_label("Nhập lại mật khẩu").fill("rau-sạch-2026")
    assert no_horizontal_scroll(page)
    page.get_by_role("button", name="Tạo tài khoản").click()
    page.wait_for_url("**/signup/sent")
    assert "hong.camlo@example.com" in page.content()

    with live_server.app.app_context():
        assert deliver_outbox().sent == 1
    link = live_server.mailbox.last_link("hong.camlo@example.com")
    assert link.startswith(base + "/verify/")
    page.goto(link)
    page.wait_for_url("**/login**")
    assert "đã được xác nhận" in page.content()
    assert page.get_by_label("Địa chỉ e-mail").input_value() == "hong.camlo@example.com"
    page.get_by_label("Mật khẩu").fill("rau-sạch-2026")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/my/organisation")

    page.get_by_label("Mã số thuế hoặc mã số đăng ký kinh doanh").fill("3200777666")
    page.get_by_label("Xã, phường").select_option(label="Xã Cam Lộ")
    page.get_by_label("Địa chỉ (thôn, đường)").fill("Thôn Tân Xuân")
    page.get_by_label("Điện thoại").fill("0233 3777 666")
    page.get_by_role("button", name="Lưu hồ sơ").click()
    page.wait_for_url("**/my/organisation")
    assert "Đã lưu hồ sơ." in page.content()
    assert "Sở Công Thương sẽ sớm xác minh" in page.content()
    assert no_horizontal_scroll(page)

    with live_server.app.app_context():
        official = create_staff(email="canbo.e2e@example.com")
        db.session.remove()

    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        office = desk.new_page()
        office.goto(base + "/login")
        office.get_by_label("Địa chỉ e-mail").fill(official.email)
        office.get_by_label("Mật khẩu").fill(official.password)
        office.get_by_role("button", name="Đăng nhập").click()
        office.goto(base + "/department/verification")
        office.get_by_role("link", name="HTX Rau sạch Cam Lộ").click()
        assert "3200777666" in office.content() and "Xã Cam Lộ" in office.content()
        office.get_by_role("button", name="Xác minh", exact=True).click()
        office.wait_for_url("**/department/verification")
        assert "Đã xác minh HTX Rau sạch Cam Lộ." in office.content()
    finally:
        desk.close()

    page.goto(base + "/orgs")
    page.get_by_role("link", name="HTX Rau sạch Cam Lộ").click()
    badge = page.locator(".badge-verified")
    assert badge.is_visible()
    assert badge.inner_text().strip().endswith("Đã xác minh")
    assert no_horizontal_scroll(page)
