"""The outbox against a real SMTP server on 127.0.0.1."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from market.accounts.models import User
from market.alerts.models import OutboxMessage, OutboxStatus
from market.alerts.services import deliver_outbox, message_id_for, queue_email
from market.db import utcnow
from market.extensions import db
from tests.conftest import free_port


def _user(member) -> User:
    return db.session.get(User, member.id)


def _queue(user: User, key: str, kind: str = "organisation_status") -> OutboxMessage:
    from market.orgs.models import Organisation

    organisation = db.session.get(Organisation, user.organisation.id)
    return queue_email(
        user=user,
        kind=kind,
        template="organisation_status",
        dedupe_key=key,
        organisation=organisation,
        status="verified",
        reason=None,
        profile_url="http://market.test/orgs/x",
    )


def _rows(**where) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).order_by(OutboxMessage.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(OutboxMessage, name) == value)
    return list(db.session.scalars(stmt))


def test_message_arrives_with_both_parts_headers_and_working_links(
    ctx, client, member, smtp_server
) -> None:
    user = _user(member)
    _queue(user, "test:1")
    report = deliver_outbox()
    assert (report.sent, report.failed) == (1, 0)

    (message,) = smtp_server.to(member.email)
    assert message["Subject"] == "HTX Nông nghiệp Thử nghiệm đã được xác minh"
    assert message["Message-ID"] == message_id_for("test:1")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Sở Công Thương đã xác minh HTX Nông nghiệp Thử nghiệm" in text
    assert "<p>Chào Nguyễn Văn A,</p>" in html
    unsubscribe = message["List-Unsubscribe"].strip().strip("<>")
    assert unsubscribe.startswith("http://market.test/email/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in text and unsubscribe in html

    # The link works without signing in, and turns that kind off.
    response = client.get(unsubscribe.removeprefix("http://market.test"))
    assert response.status_code == 200
    assert "sẽ không nhận nữa" in response.get_data(as_text=True)
    assert _queue(user, "test:2") is None


def test_essential_emails_have_no_unsubscribe(ctx, member, smtp_server) -> None:
    from market.accounts.services import send_verification_email

    send_verification_email(user=_user(member))
    deliver_outbox()
    (message,) = smtp_server.to(member.email)
    assert message["List-Unsubscribe"] is None
    assert "/verify/" in message.get_body(("plain",)).get_content()


def test_same_dedupe_key_is_one_email(ctx, member, smtp_server) -> None:
    user = _user(member)
    assert _queue(user, "dup:1") is not None
    assert _queue(user, "dup:1") is None
    deliver_outbox()
    assert len(smtp_server.to(member.email)) == 1


def test_a_repeated_event_is_not_rendered_again(ctx, member, monkeypatch) -> None:
    from market.alerts import mailer

    rendered = []
    render = mailer.render_email
    monkeypatch.setattr(
        mailer, "render_email", lambda *a, **kw: rendered.append(a) or render(*a, **kw)
    )
    user = _user(member)
    assert _queue(user, "once:1") is not None
    assert _queue(user, "once:1") is None
    assert len(rendered) == 1


def test_server_down_keeps_messages_queued_then_delivers_exactly_once(
    app, ctx, member, smtp_server
) -> None:
    user = _user(member)
    for i in range(3):
        _queue(user, f"down:{i}")
    port = app.config["MARKET_SMTP_PORT"]
    app.config["MARKET_SMTP_PORT"] = free_port()  # nothing listens there
    try:
        report = deliver_outbox()
    finally:
        app.config["MARKET_SMTP_PORT"] = port
    assert (report.claimed, report.retried, report.sent) == (3, 3, 0)
    rows = _rows()
    assert {r.status for r in rows} == {OutboxStatus.queued}
    assert all(r.attempts == 1 and r.next_attempt_at > utcnow() for r in rows)
    assert "SMTP server unreachable" in rows[0].last_error
    assert smtp_server.messages == []

    # Not due yet: nothing happens. Later, with the server back: each delivered once.
    assert deliver_outbox().claimed == 0
    later = utcnow() + timedelta(minutes=5)
    assert deliver_outbox(now=later).sent == 3
    assert deliver_outbox(now=later + timedelta(days=1)).claimed == 0
    assert len(smtp_server.to(member.email)) == 3
    assert {r.status for r in _rows()} == {OutboxStatus.sent}


def test_rejected_address_fails_that_row_only(ctx, member, other_member, smtp_server) -> None:
    smtp_server.refuse.add(other_member.email)
    _queue(_user(member), "ok:1")
    _queue(_user(other_member), "refused:1")
    report = deliver_outbox()
    assert (report.sent, report.failed) == (1, 1)
    (failed,) = _rows(status=OutboxStatus.failed)
    assert failed.recipient == other_member.email
    assert failed.last_error.startswith("550")
    assert len(smtp_server.to(member.email)) == 1


def test_transient_refusals_retry_with_backoff_then_give_up(app, ctx, member, smtp_server) -> None:
    user = _user(member)
    _queue(user, "flaky:1")
    app.config["MARKET_SMTP_PORT"], real = free_port(), app.config["MARKET_SMTP_PORT"]
    try:
        now = utcnow()
        waits = []
        for _ in range(app.config["MARKET_OUTBOX_MAX_ATTEMPTS"]):
            deliver_outbox(now=now)
            (row,) = _rows()
            if row.status == OutboxStatus.failed:
                break
            waits.append((row.next_attempt_at - now).total_seconds())
            now = row.next_attempt_at
    finally:
        app.config["MARKET_SMTP_PORT"] = real
    assert row.status == OutboxStatus.failed
    assert row.attempts == app.config["MARKET_OUTBOX_MAX_ATTEMPTS"]
    assert waits == sorted(waits) and waits[1] == pytest.approx(2 * waits[0], rel=0.01)


def test_crashed_sender_rows_return_after_the_lease(ctx, member, smtp_server) -> None:
    _queue(_user(member), "crash:1")
    (row,) = _rows()
    row.status = OutboxStatus.sending  # as a sender that died mid-batch left it
    row.lease_until = utcnow() + timedelta(minutes=5)
    db.session.commit()
    assert deliver_outbox().claimed == 0
    assert deliver_outbox(now=utcnow() + timedelta(minutes=6)).sent == 1
    (message,) = smtp_server.to(member.email)
    assert message["Message-ID"] == message_id_for("crash:1")


def test_rolled_back_action_queues_nothing(ctx, member) -> None:
    user = _user(member)
    with pytest.raises(RuntimeError), db.session.begin_nested():
        _queue(user, "rollback:1")
        raise RuntimeError("the action failed after queueing")
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_rolled_back_request_leaves_no_outbox_row(app, database, member, tmp_path) -> None:
    from tests.conftest import make_test_app

    fresh = make_test_app(tmp_path, app.config["SQLALCHEMY_DATABASE_URI"], TESTING=False)

    @fresh.post("/_queue_then_fail")
    def _queue_then_fail():
        user = db.session.get(User, member.id)
        _queue(user, "request:1")
        db.session.flush()
        raise RuntimeError("boom after queueing")

    assert fresh.test_client().post("/_queue_then_fail").status_code == 500
    with app.app_context():
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    with fresh.app_context():
        db.engine.dispose()


def test_without_smtp_server_messages_go_to_the_log(app, ctx, member, caplog) -> None:
    assert not app.config["MARKET_SMTP_HOST"]
    _queue(_user(member), "log:1")
    with caplog.at_level("INFO", logger="market.alerts.services"):
        assert deliver_outbox().sent == 1
    assert member.email in caplog.text
