"""The price board on a small phone: readable without sideways scrolling, and searchable
without accents."""

from __future__ import annotations

from market.extensions import db
from tests.e2e.conftest import no_horizontal_scroll


def _load_demo_prices(live_server) -> None:
    from market.prices.demo import price_history

    with live_server.app.app_context():
        price_history()
        db.session.commit()
        db.session.remove()


def test_board_on_a_360px_phone(live_server, phone) -> None:
    _load_demo_prices(live_server)
    page = phone
    page.goto(live_server.url + "/prices")
    assert page.locator(".board-item").count() >= 8
    first = page.locator(".board-row").first
    assert first.locator(".price").inner_text().strip()
    assert "%" in first.locator(".changes").inner_text()
    assert no_horizontal_scroll(page)

    page.get_by_label("Tìm kiếm").fill("ca phe")
    page.get_by_role("button", name="Lọc").click()
    page.wait_for_url("**q=ca+phe**")
    names = page.locator(".board-name").all_inner_texts()
    assert names and all("Cà phê" in n for n in names)
    assert no_horizontal_scroll(page)

    page.locator(".board-name a").first.click()
    page.wait_for_url("**/prices/ca_phe_robusta_nhan**")
    assert page.locator("svg.chart").is_visible()
    assert no_horizontal_scroll(page)

    page.goto(live_server.url + "/prices?q=heo+hoi")
    badge = page.locator(".board-item", has_text="Lợn hơi").locator(".warn-alert")
    assert badge.is_visible()  # the demo's spike in Quảng Trị
