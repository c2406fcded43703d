"""Preferences, digests, unsubscribing and the admin's outbox page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from market.accounts.models import User
from market.alerts import registry
from market.alerts.models import DigestEntry, Frequency, OutboxMessage, OutboxStatus
from market.alerts.registry import EmailKind, get_kind
from market.alerts.services import (
    build_digests,
    deliver_outbox,
    frequency_for,
    queue_email,
    set_preference,
    unsubscribe_token,
)
from market.db import utcnow
from market.errors import DomainError
from market.extensions import db
from market.orgs.models import Organisation
from market.scheduler.models import JobRun
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


def test_entry_queued_after_the_days_digest_goes_in_the_next_days_digest(
    ctx, member, smtp_server
) -> None:
    user = db.session.get(User, member.id)
    set_preference(user=user, kind="organisation_status", frequency="daily")
    _queue(user, "late:1")
    assert build_digests(now=MONDAY_0730) == 1
    late = _queue(user, "late:2")  # the job runs hourly; Monday's digest is already queued
    assert build_digests(now=MONDAY_0730 + timedelta(hours=1)) == 0
    assert late.digested_at is None  # still waiting, not lost
    assert build_digests(now=MONDAY_0730 + timedelta(days=1)) == 1
    assert late.digested_at is not None
    deliver_outbox()
    messages = {m["Subject"]: m for m in smtp_server.to(member.email)}
    tuesday = messages["Bản tổng hợp hằng ngày (01/12/2026)"]
    assert tuesday.get_body(("plain",)).get_content().count("Đã xác minh") == 1


@pytest.fixture
def alarm_kind(monkeypatch) -> EmailKind:
    """A kind that makes no sense in a digest, registered for one test only."""
    kind = EmailKind("test_alarm", "Test alarm", "", digestible=False, order=99)
    monkeypatch.setitem(registry._kinds, kind.key, kind)
    return kind


def _options(page: str, kind: str) -> list[str]:
    select_html = re.search(rf'<select name="kind-{kind}".*?</select>', page, re.S).group(0)
    return re.findall(r'<option value="(\w+)"', select_html)


def _selected(page: str, kind: str) -> str:
    select_html = re.search(rf'<select name="kind-{kind}".*?</select>', page, re.S).group(0)
    return re.search(r'<option value="(\w+)" selected', select_html).group(1)


def test_service_decides_which_choices_a_kind_allows(ctx, member, alarm_kind) -> None:
    user = db.session.get(User, member.id)
    assert alarm_kind.choices == (Frequency.immediate, Frequency.off)
    with pytest.raises(DomainError, match="bản tổng hợp") as refused:
        set_preference(user=user, kind="test_alarm", frequency="daily")
    assert refused.value.field == "kind-test_alarm"
    with pytest.raises(DomainError):
        set_preference(user=user, kind="test_alarm", frequency="hourly")
    set_preference(user=user, kind="test_alarm", frequency="off")
    assert frequency_for(user, alarm_kind) == Frequency.off


def test_settings_page_offers_the_kinds_choices_and_shows_the_services_refusal(
    app, client, member, alarm_kind
) -> None:
    log_in(client, member)
    page = client.get("/account/email").get_data(as_text=True)
    assert _options(page, "test_alarm") == ["immediate", "off"]
    assert _options(page, "organisation_status") == ["immediate", "daily", "weekly", "off"]
    response = client.post(
        "/account/email",
        data={"kind-organisation_status": "weekly", "kind-test_alarm": "daily"},
    )
    page = response.get_data(as_text=True)
    assert "Loại e-mail này không thể chờ gộp vào bản tổng hợp." in page
    assert 'id="kind-test_alarm-error"' in page
    assert _selected(page, "organisation_status") == "weekly"  # what the user chose stays
    with app.app_context():  # and nothing is saved unless all of it can be
        user = db.session.get(User, member.id)
        assert frequency_for(user, get_kind("organisation_status")) == Frequency.immediate


def test_undo_brings_back_the_earlier_choice(ctx, client, member) -> None:
    user = db.session.get(User, member.id)
    set_preference(user=user, kind="organisation_status", frequency="weekly")
    token = unsubscribe_token(user, "organisation_status")
    page = client.get(f"/email/unsubscribe/{token}").get_data(as_text=True)
    assert frequency_for(user, get_kind("organisation_status")) == Frequency.off
    undo = re.search(r'action="([^"]*/email/resubscribe/[^"]+)"', page).group(1)
    assert client.post(undo).status_code == 302
    assert frequency_for(user, get_kind("organisation_status")) == Frequency.weekly


def test_outbox_page_words_job_results_and_counts_retries(app, client, admin_account) -> None:
    with app.app_context():
        db.session.get(User, admin_account.id).locale = "en"
        db.session.add(JobRun(job="send_outbox", status="ok", started_at=utcnow(), duration_ms=5))
        for n in range(3):
            db.session.add(
                OutboxMessage(
                    dedupe_key=f"retry:{n}",
                    kind="account",
                    recipient="a@example.com",
                    subject="s",
                    text_body="t",
                    html_body="h",
                    status=OutboxStatus.failed,
                )
            )
        db.session.commit()
        first_id = db.session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key == "retry:0")
        )
    log_in(client, admin_account)
    page = client.get("/department/outbox").get_data(as_text=True)
    assert '<td data-label="Result">succeeded</td>' in page
    one = client.post(
        "/department/outbox/retry", data={"message_id": first_id}, follow_redirects=True
    )
    assert "1 e-mail is queued again." in one.get_data(as_text=True)
    rest = client.post("/department/outbox/retry", follow_redirects=True)
    assert "2 e-mails are queued again." in rest.get_data(as_text=True)
