"""An official drafts last week's bulletin, writes the commentary, previews and publishes it;
a reader finds it in the archive on a phone and downloads the PDF."""

from __future__ import annotations

from market.extensions import db
from tests.conftest import create_staff
from tests.e2e.conftest import no_horizontal_scroll


def _prepare(live_server):
    from market.accounts.services import get_user_by_email
    from market.prices.demo import price_history

    with live_server.app.app_context():
        price_history()  # does nothing when another test loaded the demo prices already
        db.session.commit()
        if get_user_by_email("canbo.bantin@example.com") is None:
            account = create_staff(email="canbo.bantin@example.com")
        else:  # pragma: no cover - a rerun in the same session
            from tests.conftest import PASSWORD, Account

            account = Account(0, "canbo.bantin@example.com", PASSWORD)
        db.session.remove()
    return account


def test_official_publishes_a_bulletin_and_a_reader_gets_the_pdf(
    live_server, browser, phone
) -> None:
    base = live_server.url
    official = _prepare(live_server)
    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = desk.new_page()
        page.set_default_timeout(20000)
        page.on("dialog", lambda dialog: dialog.accept())  # "Publish ...?" asks first
        page.goto(base + "/login")
        page.get_by_label("Địa chỉ e-mail").fill(official.email)
        page.get_by_label("Mật khẩu").fill(official.password)
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_load_state()

        page.goto(base + "/department/bulletins/")
        page.get_by_label("Bản tin", exact=True).select_option("week")
        page.get_by_role("button", name="Lập bản nháp").click()
        page.wait_for_url("**/department/bulletins/*/edit")
        assert "Bản nháp đã sẵn sàng" in page.content()
        assert page.locator("details.bulletin-group").count() >= 8

        page.get_by_role("textbox", name="Nhận định").fill(
            "Giá **lợn hơi** tại Quảng Trị tăng mạnh; bà con nên theo dõi sát.\n\n"
            "- Cà phê ổn định\n- Hồ tiêu giảm nhẹ"
        )
        page.get_by_role("button", name="Lưu và xem trước").click()
        page.wait_for_url("**/department/bulletins/*/preview")
        assert page.locator(".bulletin-commentary strong", has_text="lợn hơi").is_visible()
        assert page.locator(".bulletin-table tbody tr").count() >= 8

        page.get_by_role("button", name="Xuất bản bản tin").click()
        page.wait_for_url("**/bulletins/*")
        assert "Đã xuất bản" in page.content()
        bulletin_url = page.url
    finally:
        desk.close()

    reader = phone
    reader.goto(base + "/bulletins")
    entry = reader.locator(".bulletin-entry").first
    assert "Bản tin giá cả thị trường tuần" in entry.inner_text()
    assert no_horizontal_scroll(reader)
    entry.locator("a").first.click()
    reader.wait_for_url(bulletin_url)
    assert reader.locator(".bulletin-commentary").is_visible()
    assert "Lợn hơi" in reader.locator(".bulletin-table").inner_text()
    assert no_horizontal_scroll(reader)

    pdf_url = reader.get_by_role("link", name="Tải PDF").get_attribute("href")
    response = reader.request.get(base + pdf_url)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
