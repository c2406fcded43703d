"""A live server on 127.0.0.1 and Debian's Chromium driven by Playwright.

The live server has its own SQLite file (the browser's requests commit for real, so they
cannot share the rolled-back test transaction).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import make_server

from market.extensions import db
from tests.conftest import Mailbox, _Handler, free_port, make_test_app

CHROMIUM = os.environ.get("MARKET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.path):
            item.add_marker(pytest.mark.browser)


@dataclass
class LiveServer:
    app: Flask
    url: str
    mailbox: Mailbox


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from aiosmtpd.controller import Controller

    from market.catalogue.services import load_reference_data

    tmp = tmp_path_factory.mktemp("live")
    port, smtp_port = free_port(), free_port()
    mailbox = Mailbox()
    smtp = Controller(_Handler(mailbox), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    app = make_test_app(
        tmp,
        f"sqlite:///{tmp / 'live.sqlite3'}",
        TESTING=False,
        WTF_CSRF_ENABLED=True,
        MARKET_BASE_URL=f"http://127.0.0.1:{port}",
        MARKET_SMTP_HOST="127.0.0.1",
        MARKET_SMTP_PORT=smtp_port,
        MARKET_SMTP_SECURITY="none",
    )
    with app.app_context():
        upgrade()
        load_reference_data()
        db.session.commit()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{port}", mailbox)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        smtp.stop()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        reason = f"no Chromium at {CHROMIUM}: apt-get install -y chromium"
        if os.environ.get("MARKET_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def phone(browser) -> Iterator[object]:
    """A page sized like a small Android phone (360 px wide)."""
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        yield page
    finally:
        context.close()


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
