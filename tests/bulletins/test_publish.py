"""Publishing: who may, the audit log, one e-mail per subscriber, corrections as new versions."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from market.accounts.models import User
from market.alerts.models import OutboxMessage
from market.alerts.services import set_preference
from market.audit.models import AuditEvent
from market.bulletins import services
from market.bulletins.models import Bulletin
from market.errors import DomainError
from market.extensions import db
from market.permissions import PermissionDenied
from tests.bulletins.conftest import TODAY
from tests.conftest import create_member, deliver


def _draft() -> Bulletin:
    return services.draft_bulletin(actor=None, period="week", today=TODAY).bulletin


def _user(account) -> User:
    return db.session.get(User, account.id)


def _subscriber(email: str, *, locale: str = "vi", verified: bool = True) -> User:
    account = create_member(email=email, organisation_name=f"HTX {email}", verified_email=verified)
    user = _user(account)
    user.locale = locale
    services.subscribe(actor=user)
    return user


def test_publishing_queues_one_email_per_subscriber(ctx, prices, official) -> None:
    vi = _subscriber("doc.vi@example.com")
    en = _subscriber("reader.en@example.com", locale="en")
    off = _subscriber("tat.email@example.com")
    set_preference(user=off, kind="bulletins", frequency="off")  # one-click unsubscribed
    _subscriber("chua.xac.nhan@example.com", verified=False)
    create_member(email="khong.dang.ky@example.com", organisation_name="HTX Không")
    bulletin = _draft()
    bulletin.commentary = "Giá **cà phê** tăng."

    queued = services.publish_bulletin(actor=_user(official), bulletin=bulletin)
    db.session.commit()

    assert queued == 2
    messages = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "bulletins").order_by(OutboxMessage.id)
    ).all()
    assert [m.recipient for m in messages] == [vi.email, en.email]
    assert {m.dedupe_key for m in messages} == {
        f"bulletin:{bulletin.id}:{vi.id}",
        f"bulletin:{bulletin.id}:{en.id}",
    }
    vietnamese, english = messages
    assert vietnamese.subject == "Bản tin giá: tuần 16/2026 (13/04–19/04/2026)"
    assert english.subject == "Price bulletin: week 16/2026 (13/04–19/04/2026)"
    pdf_link = f"http://market.test/bulletins/{bulletin.id}.pdf"
    for message in messages:
        assert pdf_link in message.text_body and pdf_link in message.html_body
        assert "<table" in message.html_body
        assert "List-Unsubscribe" in message.headers
    assert "Cà phê vối" in vietnamese.html_body and "Robusta green coffee" in english.html_body
    assert "87.333" not in vietnamese.text_body  # Đắk Lắk is not included by default
    assert "85.000 đ/kg, +6,2" in vietnamese.text_body  # Quảng Trị: 85.000, +6,25 %
    assert "85,000 đ/kg" in english.text_body and "Hello" in english.text_body

    assert bulletin.is_published and bulletin.published_by_id == official.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "bulletin.published"))
    assert event.actor_id == official.id and event.subject_id == bulletin.id

    # Publishing again neither works nor e-mails anyone twice.
    with pytest.raises(DomainError):
        services.publish_bulletin(actor=_user(official), bulletin=bulletin)
    assert services._email_subscribers(bulletin) == 0  # same keys: nothing new queued


def test_subscribers_receive_it_over_smtp(app, ctx, prices, official, smtp_server) -> None:
    reader = _subscriber("nhan.ban.tin@example.com")
    services.publish_bulletin(actor=_user(official), bulletin=_draft())
    db.session.commit()
    report = deliver(app)
    assert report.sent == 1
    (message,) = smtp_server.to(reader.email)
    assert message["Subject"].startswith("Bản tin giá: tuần 16/2026")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Cà phê vối" in text and "Cà phê vối" in html
    assert "/bulletins/" in text and ".pdf" in html


def test_members_cannot_draft_edit_or_publish(ctx, prices, member) -> None:
    user = _user(member)
    with pytest.raises(PermissionDenied):
        services.draft_bulletin(actor=user, period="week", today=TODAY)
    bulletin = _draft()
    with pytest.raises(PermissionDenied):
        services.update_bulletin(
            actor=user, bulletin=bulletin, title="x", commentary="", sections=[], items={}
        )
    with pytest.raises(PermissionDenied):
        services.publish_bulletin(actor=user, bulletin=bulletin)
    with pytest.raises(PermissionDenied):
        services.discard_draft(actor=user, bulletin=bulletin)


def test_a_published_period_is_not_drafted_again(ctx, prices, official) -> None:
    services.publish_bulletin(actor=_user(official), bulletin=_draft())
    with pytest.raises(DomainError, match="đã được xuất bản"):
        _draft()


def test_nothing_included_cannot_be_published(ctx, prices, official) -> None:
    bulletin = _draft()
    for item in bulletin.items:
        item.included = False
    with pytest.raises(DomainError):
        services.publish_bulletin(actor=_user(official), bulletin=bulletin)


def test_a_correction_is_a_new_version_and_version_1_stays(client, ctx, prices, official) -> None:
    from tests.conftest import log_in

    staff = _user(official)
    reader = _subscriber("doc.gia@example.com")
    first = _draft()
    services.publish_bulletin(actor=staff, bulletin=first)
    db.session.commit()

    with pytest.raises(DomainError):
        services.correct_bulletin(actor=staff, bulletin=first, note="  ")
    correction = services.correct_bulletin(
        actor=staff, bulletin=first, note="Sửa giá cà phê tại Quảng Trị."
    )
    assert (correction.version, correction.supersedes_id, correction.status) == (
        2,
        first.id,
        "draft",
    )
    assert len(correction.items) == len(first.items)
    # Starting again returns the same draft, never a third version.
    assert services.correct_bulletin(actor=staff, bulletin=first, note="x").id == correction.id
    # Until it is published, version 1 is what readers see.
    assert services.current_version(first).id == first.id

    choices = {
        i.id: services.ItemChoice(i.included, i.position, "Đã sửa" if i.market_id else None)
        for i in correction.items
    }
    services.update_bulletin(
        actor=staff,
        bulletin=correction,
        title=correction.title,
        commentary="Đính chính số liệu.",
        sections=list(services.DEFAULT_SECTIONS),
        items=choices,
        correction_note="Sửa giá cà phê tại Quảng Trị.",
    )
    queued = services.publish_bulletin(actor=staff, bulletin=correction)
    db.session.commit()
    assert queued == 1  # the subscriber hears about the correction, once
    assert db.session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.dedupe_key == f"bulletin:{correction.id}:{reader.id}"
        )
    )
    assert first.superseded_at is not None and first.is_published
    assert services.current_version(first).id == correction.id
    assert not any(i.note == "Đã sửa" for i in first.items)

    # Version 1 is still readable at its own address, and says it was corrected.
    old = client.get(f"/bulletins/{first.id}").get_data(as_text=True)
    assert "Phiên bản này đã được đính chính" in old
    assert f'href="/bulletins/{correction.id}"' in old
    new = client.get(f"/bulletins/{correction.id}").get_data(as_text=True)
    assert "Sửa giá cà phê tại Quảng Trị." in new and "Đính chính:" in new
    assert f'href="/bulletins/{first.id}"' in new and "Phiên bản 1" in new
    assert client.get(f"/bulletins/{first.id}.pdf").status_code == 200
    # The archive lists the period once, as its latest version.
    archive = client.get("/bulletins").get_data(as_text=True)
    assert f"/bulletins/{correction.id}" in archive
    assert f'"/bulletins/{first.id}"' not in archive
    # A published version cannot be edited, only corrected again.
    with pytest.raises(DomainError):
        services.update_bulletin(
            actor=staff, bulletin=first, title="x", commentary="", sections=[], items={}
        )
    log_in(client, official)
    assert client.get(f"/department/bulletins/{first.id}/edit").status_code == 302


def test_two_corrections_at_once_give_a_message(ctx, prices, official, monkeypatch) -> None:
    """Two clicks on "Correct": both saw version 1 as the latest and insert version 2."""
    staff = _user(official)
    first = _draft()
    services.publish_bulletin(actor=staff, bulletin=first)
    services.correct_bulletin(actor=staff, bulletin=first, note="Sửa giá cà phê.")
    db.session.commit()
    monkeypatch.setattr(services, "latest_version", lambda kind, start: first)  # the stale read
    with pytest.raises(DomainError, match=re.escape(str(services.DRAFTED_ELSEWHERE))):
        services.correct_bulletin(actor=staff, bulletin=first, note="Sửa giá cà phê.")
    assert [v.version for v in services.versions_of(first, include_drafts=True)] == [1, 2]
