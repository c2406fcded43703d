"""Preferences, digests, unsubscribing and the admin's outbox page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from market.accounts.models import User
from market.alerts.models import DigestEntry, Frequency, OutboxMessage, OutboxStatus
from market.alerts.registry import get_kind
from market.alerts.services import (
    build_digests,
    deliver_outbox,
    frequency_for,
    queue_email,
    unsubscribe_token,
)
from market.extensions import db
from market.orgs.models import Organisation
from tests.conftest import log_in

# 2026-11-30 is a Monday; 00:30 UTC is 07:30 in Asia/Ho_Chi_Minh.
MONDAY_0730 = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)
MONDAY_0630 = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)


def _queue(user: User, key: str):
    organisation = db.session.get(Organisation, user.organisation.id)
    return queue_email(
        user=user,
        kind="organisation_status",
        template="organisation_status",
        dedupe_key=key,
        organisation=organisation,
        status="verified",
        reason=None,
        profile_url="http://market.test/orgs/x",
        digest_title=organisation.name,
        digest_summary=lambda: "Đã xác minh",
        digest_link="http://market.test/orgs/x",
    )


def test_settings_page_lists_registered_kinds_and_saves(app, client, member) -> None:
    log_in(client, member)
    page = client.get("/account/email").get_data(as_text=True)
    assert "Xác minh tổ chức của tôi" in page
    assert 'name="kind-organisation_status"' in page
    assert "kind-account" not in page  # essential: not a choice
    response = client.post("/account/email", data={"kind-organisation_status": "weekly"})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, member.id)
        assert frequency_for(user, get_kind("organisation_status")) == Frequency.weekly


def test_settings_page_refuses_unknown_values_and_keeps_the_choice(client, member) -> None:
    log_in(client, member)
    response = client.post("/account/email", data={"kind-organisation_status": "hourly"})
    assert "Vui lòng chọn một trong các lựa chọn" in response.get_data(as_text=True)


def test_off_sends_nothing(ctx, member) -> None:
    from market.alerts.services import set_preference

    user = db.session.get(User, member.id)
    set_preference(user=user, kind="organisation_status", frequency="off")
    assert _queue(user, "off:1") is None
    assert db.session.scalar(select(OutboxMessage.id)) is None


def test_daily_digest_gathers_entries_into_one_email(ctx, member, smtp_server) -> None:
    from market.alerts.services import set_preference

    user = db.session.get(User, member.id)
    set_preference(user=user, kind="organisation_status", frequency="daily")
    assert isinstance(_queue(user, "d:1"), DigestEntry)
    assert isinstance(_queue(user, "d:2"), DigestEntry)
    assert db.session.scalar(select(OutboxMessage.id)) is None

    assert build_digests(now=MONDAY_0630) == 0  # before 07:00 local time
    assert build_digests(now=MONDAY_0730) == 1
    assert build_digests(now=MONDAY_0730) == 0  # entries are taken; nothing twice
    deliver_outbox()
    (message,) = smtp_server.to(member.email)
    assert message["Subject"] == "Bản tổng hợp hằng ngày (30/11/2026)"
    text = message.get_body(("plain",)).get_content()
    assert text.count("HTX Nông nghiệp Thử nghiệm: Đã xác minh") == 2
    assert "/email/unsubscribe/" in text


def test_weekly_digest_waits_for_monday(ctx, member) -> None:
    from market.alerts.services import set_preference

    user = db.session.get(User, member.id)
    set_preference(user=user, kind="organisation_status", frequency="weekly")
    _queue(user, "w:1")
    tuesday = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    assert build_digests(now=tuesday) == 0
    assert build_digests(now=MONDAY_0730) == 1
    message = db.session.scalar(select(OutboxMessage))
    assert message.subject.startswith("Bản tổng hợp hằng tuần")
    assert message.dedupe_key == f"digest:{user.id}:weekly:2026-W49"


@pytest.mark.usefixtures("csrf_on")
def test_one_click_unsubscribe_post(ctx, client, member) -> None:
    user = db.session.get(User, member.id)
    token = unsubscribe_token(user, "organisation_status")
    response = client.post(f"/email/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 204
    assert frequency_for(user, get_kind("organisation_status")) == Frequency.off


def test_tampered_unsubscribe_link(client) -> None:
    assert client.get("/email/unsubscribe/not-signed").status_code == 404


def test_undo_unsubscribe(ctx, client, member) -> None:
    user = db.session.get(User, member.id)
    token = unsubscribe_token(user, "organisation_status")
    client.get(f"/email/unsubscribe/{token}")
    assert frequency_for(user, get_kind("organisation_status")) == Frequency.off
    assert client.post(f"/email/resubscribe/{token}").status_code == 302
    assert frequency_for(user, get_kind("organisation_status")) == Frequency.immediate


def test_verifying_an_organisation_emails_its_members(ctx, member, official, smtp_server) -> None:
    from market.orgs.services import suspend_organisation

    suspend_organisation(
        actor=db.session.get(User, official.id),
        organisation=db.session.get(Organisation, member.organisation_id),
        reason="Thiếu giấy phép",
    )
    deliver_outbox()
    (message,) = smtp_server.to(member.email)
    assert "bị tạm đình chỉ" in message["Subject"]
    assert "Thiếu giấy phép" in message.get_body(("plain",)).get_content()


def test_outbox_page_is_for_admins(app, client, member, official, admin_account) -> None:
    for account in (member, official):
        c = app.test_client()
        log_in(c, account)
        assert c.get("/department/outbox").status_code == 403
    with app.app_context():
        user = db.session.get(User, member.id)
        _queue(user, "adm:1")
        row = db.session.scalar(select(OutboxMessage))
        row.status = OutboxStatus.failed
        row.last_error = "550 5.1.1 No such user here"
        db.session.commit()
        row_id = row.id
    log_in(client, admin_account)
    page = client.get("/department/outbox").get_data(as_text=True)
    assert "550 5.1.1 No such user here" in page and "Hộp thư đi" in page
    response = client.post("/department/outbox/retry", data={"message_id": row_id})
    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(OutboxMessage, row_id)
        assert row.status == OutboxStatus.queued and row.attempts == 0
