"""Sign-up, e-mail verification and the forgotten-password link, with a real SMTP server."""

from sqlalchemy import select

from market.accounts.models import User
from market.extensions import db
from market.orgs.models import Organisation, OrganisationKind, OrganisationStatus
from tests.conftest import deliver

SIGNUP = {
    "organisation_kind": "cooperative",
    "organisation_name": "HTX Nông nghiệp Cam Thành",
    "name": "Trần Văn Bình",
    "email": "Binh.Tran@Example.com",
    "phone": "0912 345 678",
    "password": "mật-khẩu-dài",
    "confirm": "mật-khẩu-dài",
}


def test_signup_sends_a_verification_link_that_works(app, client, smtp_server) -> None:
    response = client.post("/signup", data=SIGNUP)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/signup/sent")
    assert smtp_server.messages == []  # queued, not sent by the request
    assert deliver(app).sent == 1

    messages = smtp_server.to("binh.tran@example.com")
    assert len(messages) == 1
    message = messages[0]
    assert message["Subject"] == "Xác nhận địa chỉ e-mail"
    assert message.get_body(("plain",)) is not None and message.get_body(("html",)) is not None
    link = smtp_server.last_link("binh.tran@example.com")
    assert link.startswith("http://market.test/verify/")

    # Not confirmed yet: logging in is refused with a way to get a new link.
    response = client.post(
        "/login", data={"email": SIGNUP["email"], "password": SIGNUP["password"]}
    )
    assert "Vui lòng xác nhận địa chỉ e-mail" in response.get_data(as_text=True)

    response = client.get(link.removeprefix("http://market.test"))
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "binh.tran@example.com"))
        assert user.email_verified
        organisation = user.organisation
        assert organisation.kind == OrganisationKind.cooperative
        assert organisation.status == OrganisationStatus.pending
        assert organisation.name == "HTX Nông nghiệp Cam Thành"

    response = client.post(
        "/login", data={"email": SIGNUP["email"], "password": SIGNUP["password"]}
    )
    assert response.status_code == 302
    assert client.get("/my/organisation").status_code == 200


def test_bad_signup_keeps_what_was_typed(client) -> None:
    data = dict(SIGNUP, confirm="khác-hẳn", email="khong-phai-email")
    response = client.post("/signup", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Hai mật khẩu không khớp nhau." in page
    assert "Nhập một địa chỉ e-mail hợp lệ." in page
    assert 'value="HTX Nông nghiệp Cam Thành"' in page
    assert 'value="Trần Văn Bình"' in page
    assert 'value="0912 345 678"' in page
    with client.application.app_context():
        assert (
            db.session.scalar(
                select(Organisation).where(Organisation.name == "HTX Nông nghiệp Cam Thành")
            )
            is None
        )


def test_duplicate_email_is_refused_and_nothing_half_written(client, member) -> None:
    response = client.post("/signup", data=dict(SIGNUP, email=member.email.upper()))
    page = response.get_data(as_text=True)
    assert "đã có tài khoản" in page
    with client.application.app_context():
        assert (
            db.session.scalar(
                select(Organisation).where(Organisation.name == SIGNUP["organisation_name"])
            )
            is None
        )


def test_tampered_link_is_refused(client) -> None:
    response = client.get("/verify/not-a-real-token", follow_redirects=True)
    assert "Liên kết này không hợp lệ." in response.get_data(as_text=True)


def test_password_reset_link_works_once(app, client, member, smtp_server) -> None:
    response = client.post("/password/forgot", data={"email": member.email})
    assert response.status_code == 302
    deliver(app)
    link = smtp_server.last_link(member.email)
    path = link.removeprefix("http://market.test")
    assert path.startswith("/password/reset/")

    response = client.post(path, data={"password": "mật-khẩu-mới-1", "confirm": "mật-khẩu-mới-1"})
    assert response.status_code == 302
    client.post("/logout")
    response = client.post("/login", data={"email": member.email, "password": "mật-khẩu-mới-1"})
    assert response.status_code == 302

    # The same link again: already used.
    client.post("/logout")
    response = client.post(path, data={"password": "lại-lần-nữa-2", "confirm": "lại-lần-nữa-2"})
    assert "đã được dùng" in response.get_data(as_text=True)


def test_forgot_password_says_the_same_for_unknown_addresses(client, smtp_server) -> None:
    response = client.post(
        "/password/forgot", data={"email": "nobody@example.com"}, follow_redirects=True
    )
    assert "Nếu có tài khoản dùng địa chỉ đó" in response.get_data(as_text=True)
    assert smtp_server.messages == []
