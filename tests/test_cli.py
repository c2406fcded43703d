"""The ``market`` console command, run as a new user would run it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

MARKET = str(Path(sys.executable).with_name("market"))


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    for key in list(env):
        if key.startswith("MARKET_"):
            del env[key]
    env["MARKET_INSTANCE_PATH"] = str(tmp_path)
    env["MARKET_FETCH_DELAY_SECONDS"] = "0"
    return subprocess.run(
        [MARKET, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _snapshot(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("cli")
    result = _run(tmp, "init")
    assert result.returncode == 0, result.stderr
    assert "ward: +3321" in result.stdout
    return tmp


def test_init_twice_changes_nothing(initialised: Path) -> None:
    db = initialised / "market.sqlite3"
    before = _snapshot(db)
    result = _run(initialised, "init")
    assert result.returncode == 0, result.stderr
    assert "Reference data: up to date" in result.stdout
    assert _snapshot(db) == before
    with sqlite3.connect(db) as conn:
        (n,) = conn.execute("SELECT count(*) FROM ward WHERE province_code = '44'").fetchone()
    assert n == 78
    # The secret key was made once and kept.
    assert (initialised / "secret_key").stat().st_size > 40


def test_demo_is_idempotent(initialised: Path) -> None:
    first = _run(initialised, "demo", "--if-empty")
    assert first.returncode == 0, first.stderr
    assert "organisations" in first.stdout
    db = initialised / "market.sqlite3"
    before = _snapshot(db)
    again = _run(initialised, "demo")
    assert again.returncode == 0 and "already loaded" in again.stdout
    assert _snapshot(db) == before
    with sqlite3.connect(db) as conn:
        communes = conn.execute(
            "SELECT count(DISTINCT ward_code) FROM organisation WHERE kind = 'cooperative'"
        ).fetchone()[0]
        certificates = conn.execute("SELECT count(*) FROM certification").fetchone()[0]
        roles = {r[0] for r in conn.execute("SELECT role FROM user_account")}
    assert communes >= 5 and certificates >= 5
    assert {"member", "official", "admin"} <= roles


def test_users_create(initialised: Path) -> None:
    result = _run(
        initialised, "users", "create", "--email", "CanBo2@Example.com", "--role", "official"
    )
    assert result.returncode == 0, result.stderr
    assert "Created official canbo2@example.com" in result.stdout
    assert "Password: " in result.stdout
    again = _run(initialised, "users", "create", "--email", "canbo2@example.com", "--role", "admin")
    assert again.returncode != 0
    bad = _run(initialised, "users", "create", "--email", "x@example.com", "--role", "king")
    assert bad.returncode != 0


def test_sources_load_list_and_collect(initialised: Path, tmp_path: Path, httpserver_ipv4) -> None:
    httpserver_ipv4.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver_ipv4.expect_request("/gia").respond_with_data(
        "<html><body><h2>Giá ngày 17/04/2026</h2><table id='gia'>"
        "<tr><th>Mặt hàng</th><th>Thị trường</th><th>Giá (đ/kg)</th></tr>"
        # Tomatoes: no demo history to judge the price against (the demo has run in this db).
        "<tr><td>Cà chua</td><td>Chợ Đông Hà</td><td>15.000</td></tr></table></body></html>",
        content_type="text/html; charset=utf-8",
    )
    sources = tmp_path / "sources.toml"
    sources.write_text(
        "[[source]]\n"
        'name = "Trang giá thử"\n'
        'kind = "html_table"\n'
        f'url = "{httpserver_ipv4.url_for("/gia")}"\n'
        'schedule = "0 8 * * *"\n'
        'settings = { table = "#gia", date_from_heading = "ngày (\\\\d+/\\\\d+/\\\\d{4})" }\n',
        encoding="utf-8",
    )
    first = _run(initialised, "sources", "load", str(sources))
    assert first.returncode == 0, first.stderr
    assert "added    Trang giá thử" in first.stdout
    again = _run(initialised, "sources", "load", str(sources))
    assert "updated  Trang giá thử" in again.stdout
    listed = _run(initialised, "sources", "list")
    assert "Trang giá thử" in listed.stdout and "0 8 * * *" in listed.stdout

    collected = _run(initialised, "prices", "collect", "--source", "Trang giá thử")
    assert collected.returncode == 0, collected.stderr
    assert "ok: 1 pages, 1 read, 1 new" in collected.stdout
    assert "1 unchanged" in _run(initialised, "prices", "collect").stdout

    broken = tmp_path / "broken.toml"
    broken.write_text('[[source]]\nname = "X"\nkind = "telepathy"\nurl = "http://x"\n')
    result = _run(initialised, "sources", "load", str(broken))
    assert result.returncode != 0 and "telepathy" not in result.stdout
    assert "source 1 (X)" in result.stderr
