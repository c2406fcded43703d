"""Logging in and out, rate limits, sessions and cookies."""

from market.accounts.services import load_user_from_session
from market.extensions import db
from tests.conftest import log_in


def test_login_and_logout(client, member) -> None:
    response = log_in(client, member)
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Đăng xuất" in page
    client.post("/logout")
    assert "Đăng xuất" not in client.get("/").get_data(as_text=True)


def test_wrong_password_gives_a_clear_message_and_keeps_the_email(client, member) -> None:
    response = client.post("/login", data={"email": member.email, "password": "sai-rồi-123"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Sai địa chỉ e-mail hoặc mật khẩu." in page
    assert f'value="{member.email}"' in page


def test_eleventh_wrong_password_in_a_minute_is_refused(client, member) -> None:
    for _ in range(10):
        response = client.post("/login", data={"email": member.email, "password": "sai-rồi-123"})
        assert response.status_code == 200
    response = client.post("/login", data={"email": member.email, "password": member.password})
    assert response.status_code == 429
    assert "Bạn đã thử quá nhiều lần" in response.get_data(as_text=True)


def test_limit_per_account_holds_across_addresses(client, member) -> None:
    for i in range(10):
        client.post(
            "/login",
            data={"email": member.email, "password": "sai-rồi-123"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{i + 1}"},
        )
    response = client.post(
        "/login",
        data={"email": member.email, "password": member.password},
        environ_base={"REMOTE_ADDR": "10.0.1.1"},
    )
    assert response.status_code == 429


def test_limit_per_address_holds_across_accounts(client, member) -> None:
    for i in range(10):
        client.post("/login", data={"email": f"guess{i}@example.com", "password": "x" * 9})
    assert log_in(client, member).status_code == 429


def test_successful_logins_do_not_count(client, member) -> None:
    for _ in range(12):
        assert log_in(client, member).status_code == 302
        client.post("/logout")


def test_login_starts_a_new_session(client, member) -> None:
    with client.session_transaction() as session:
        session["planted"] = "by-someone-else"
    log_in(client, member)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"].startswith(f"{member.id}:")


def test_cookies_are_httponly_and_lax(client, member) -> None:
    response = log_in(client, member, remember=True)
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    remember_cookie = next(c for c in cookies if c.startswith("remember_token="))
    for cookie in (session_cookie, remember_cookie):
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
        assert "Secure" not in cookie  # served over http in tests


def test_cookies_are_secure_over_https(monkeypatch, tmp_path) -> None:
    from market.config import load_settings

    monkeypatch.setenv("MARKET_BASE_URL", "https://thitruong.quangtri.gov.vn")
    settings = load_settings({"SECRET_KEY": "x", "MARKET_INSTANCE_PATH": str(tmp_path)})
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["REMEMBER_COOKIE_SECURE"] is True
    assert settings["PREFERRED_URL_SCHEME"] == "https"


def test_password_change_ends_other_sessions(app, member) -> None:
    phone, laptop = app.test_client(), app.test_client()
    log_in(phone, member)
    log_in(laptop, member, remember=True)
    assert phone.get("/account").status_code == 200
    assert laptop.get("/account").status_code == 200

    response = phone.post(
        "/account",
        data={
            "password-current_password": member.password,
            "password-new_password": "mật-khẩu-mới-2",
            "password-confirm": "mật-khẩu-mới-2",
        },
    )
    assert response.status_code == 302
    assert phone.get("/account").status_code == 200  # this device stays logged in
    response = laptop.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_old_session_id_no_longer_loads_the_user(ctx, member) -> None:
    from market.accounts.models import User

    user = db.session.get(User, member.id)
    old = user.get_id()
    user.session_version += 1
    db.session.flush()
    assert load_user_from_session(old) is None
    assert load_user_from_session(user.get_id()) is user
    assert load_user_from_session("garbage") is None


def test_profile_language_choice(client, member) -> None:
    log_in(client, member)
    response = client.post(
        "/account",
        data={"profile-name": "Nguyễn Văn B", "profile-phone": "", "profile-locale": "en"},
        follow_redirects=True,
    )
    assert "Your profile is saved." in response.get_data(as_text=True)
    assert "My account" in client.get("/account").get_data(as_text=True)


def test_limits_are_shared_between_processes_through_redis(app, tmp_path) -> None:
    """Two web processes with Redis storage count together: the 11th try is refused anywhere."""
    import secrets

    import redis

    from tests.conftest import make_test_app

    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        import pytest

        pytest.skip("no Redis at 127.0.0.1:6379")
    from market.extensions import db, limiter

    # Flask-Limiter keeps its storage on the (shared) extension object: put it back afterwards.
    saved = (limiter._storage, limiter._limiter)
    apps = [
        make_test_app(tmp_path, app.config["SQLALCHEMY_DATABASE_URI"], RATELIMIT_STORAGE_URI=url)
        for _ in range(2)
    ]
    email = f"guess-{secrets.token_hex(4)}@example.com"
    first, second = (a.test_client() for a in apps)
    try:
        attempt = {"email": email, "password": "x" * 9}
        for _ in range(10):
            assert first.post("/login", data=attempt).status_code == 200
        assert second.post("/login", data=attempt).status_code == 429
    finally:
        limiter.reset()
        limiter._storage, limiter._limiter = saved
        for a in apps:
            with a.app_context():
                db.engine.dispose()
