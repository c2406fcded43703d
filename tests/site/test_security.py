"""CSRF, security headers, error pages and the language switch."""

import re

import pytest

from market.site.security import CONTENT_SECURITY_POLICY
from tests.conftest import log_in


@pytest.mark.usefixtures("csrf_on")
def test_post_without_csrf_token_is_refused(client, member) -> None:
    response = client.post("/login", data={"email": member.email, "password": member.password})
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)


@pytest.mark.usefixtures("csrf_on")
def test_post_with_csrf_token_is_accepted(client, member) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login", data={"email": member.email, "password": member.password, "csrf_token": token}
    )
    assert response.status_code == 302


def test_security_headers(client) -> None:
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert csp == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_script_or_style(client, member) -> None:
    log_in(client, member)
    for url in ("/", "/orgs", "/login", "/signup", "/my/organisation", "/account"):
        page = client.get(url).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), url
        assert "<style" not in page and ' style="' not in page, url
        assert " onclick=" not in page and " onsubmit=" not in page, url


def test_error_pages_in_the_users_language(client) -> None:
    response = client.get("/khong-co-trang-nay")
    assert response.status_code == 404
    assert "Trang này không tồn tại" in response.get_data(as_text=True)
    client.post("/language", data={"locale": "en", "next": "/"})
    response = client.get("/khong-co-trang-nay")
    assert "This page does not exist" in response.get_data(as_text=True)


def test_api_errors_are_json(client) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404


def test_vietnamese_by_default_and_english_on_request(client) -> None:
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="vi">' in page and "Đăng ký" in page
    response = client.post("/language", data={"locale": "en", "next": "/orgs"})
    assert response.headers["Location"] == "/orgs"
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page and "Sign up" in page


def test_language_switch_refuses_offsite_redirects(client) -> None:
    response = client.post("/language", data={"locale": "en", "next": "//evil.example.com/"})
    assert response.headers["Location"] == "/"
    # A shared GET link must not be turned into a jump to another host either.
    offsite = ("/\t/evil.example", "/\\evil.example", "https://evil.example", "/\n/evil.example")
    for target in offsite:
        response = client.get("/language/vi", query_string={"next": target})
        assert response.headers["Location"] == "/", target
    assert client.get("/language/vi?next=/prices").headers["Location"] == "/prices"


def test_login_refuses_offsite_next(client, member) -> None:
    response = client.post(
        "/login?next=/%09/evil.example",
        data={"email": member.email, "password": member.password},
    )
    assert response.status_code == 302 and "evil" not in response.headers["Location"]


def test_server_error_page_is_translated(app, tmp_path) -> None:
    from tests.conftest import make_test_app

    fresh = make_test_app(tmp_path, app.config["SQLALCHEMY_DATABASE_URI"], TESTING=False)

    @fresh.get("/_boom")
    def _boom():
        raise RuntimeError("boom")

    response = fresh.test_client().get("/_boom")
    assert response.status_code == 500
    assert "Hệ thống gặp sự cố" in response.get_data(as_text=True)
    with fresh.app_context():
        from market.extensions import db

        db.engine.dispose()
