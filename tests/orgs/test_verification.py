"""Officials verify, suspend and check; each action lands in the audit log."""

import pytest
from sqlalchemy import select

from market.accounts.models import User
from market.audit.models import AuditEvent
from market.errors import DomainError
from market.extensions import db
from market.orgs import services
from market.orgs.models import (
    CertificationStatus,
    Organisation,
    OrganisationStatus,
)
from tests.conftest import log_in


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_official_verifies_from_the_queue_and_the_badge_appears(
    app, client, member, official
) -> None:
    public = app.test_client()
    assert "Đã xác minh" not in public.get(f"/orgs/{member.organisation_slug}").get_data(
        as_text=True
    )

    log_in(client, official)
    queue = client.get("/department/verification").get_data(as_text=True)
    assert "HTX Nông nghiệp Thử nghiệm" in queue
    response = client.post(
        f"/department/organisations/{member.organisation_id}/verify", data={"reason": ""}
    )
    assert response.status_code == 302

    with app.app_context():
        organisation = db.session.get(Organisation, member.organisation_id)
        assert organisation.status == OrganisationStatus.verified
        assert organisation.status_changed_by_id == official.id
        (event,) = _events("organisation.verified")
        assert event.actor_id == official.id and event.subject_id == member.organisation_id

    page = public.get(f"/orgs/{member.organisation_slug}").get_data(as_text=True)
    assert "badge-verified" in page and "Đã xác minh" in page
    assert "HTX Nông nghiệp Thử nghiệm" in public.get("/orgs").get_data(as_text=True)
    queue = client.get("/department/verification").get_data(as_text=True)
    assert f'href="/department/organisations/{member.organisation_id}"' not in queue


def test_suspension_needs_a_reason(app, client, member, official) -> None:
    log_in(client, official)
    response = client.post(
        f"/department/organisations/{member.organisation_id}/suspend", data={"reason": " "}
    )
    assert response.status_code == 400
    assert "Hãy nêu lý do tạm đình chỉ." in response.get_data(as_text=True)
    response = client.post(
        f"/department/organisations/{member.organisation_id}/suspend",
        data={"reason": "Mã số thuế không tồn tại"},
    )
    assert response.status_code == 302
    with app.app_context():
        organisation = db.session.get(Organisation, member.organisation_id)
        assert organisation.status == OrganisationStatus.suspended
        (event,) = _events("organisation.suspended")
        assert event.reason == "Mã số thuế không tồn tại"
    audit = client.get("/department/audit").get_data(as_text=True)
    assert "Tạm đình chỉ tổ chức" in audit and "Mã số thuế không tồn tại" in audit


def test_certificate_check_and_rejection(ctx, member, official) -> None:
    owner = db.session.get(User, member.id)
    officer = db.session.get(User, official.id)
    cert = services.add_certification(
        actor=owner, organisation=owner.organisation, kind="vietgap", number="VG-9"
    )
    with pytest.raises(DomainError):
        services.check_certification(actor=officer, certification=cert, status="rejected", note="")
    services.check_certification(
        actor=officer, certification=cert, status="rejected", note="Hết hạn"
    )
    assert cert.status == CertificationStatus.rejected and cert.checked_by_id == officer.id
    services.check_certification(actor=officer, certification=cert, status="checked")
    assert [
        e.action for e in _events("certification.rejected") + _events("certification.checked")
    ] == [
        "certification.rejected",
        "certification.checked",
    ]


def test_identity_change_sends_a_verified_organisation_back(ctx, member, official) -> None:
    owner = db.session.get(User, member.id)
    organisation = owner.organisation
    services.verify_organisation(actor=db.session.get(User, official.id), organisation=organisation)
    fields = dict(
        kind="cooperative",
        tax_code=None,
        ward_code="19429",
        address=None,
        phone="0233",
        email=None,
        description="Mô tả mới",
    )
    # A description change keeps the badge...
    assert not services.update_organisation(
        actor=owner, organisation=organisation, name=organisation.name, **fields
    )
    assert organisation.is_verified
    # ...a new name does not.
    assert services.update_organisation(
        actor=owner, organisation=organisation, name="HTX Tên Mới", **fields
    )
    assert organisation.status == OrganisationStatus.pending
    assert organisation.slug == "htx-ten-moi"


def test_queue_is_oldest_first_and_skips_verified(ctx, member, other_member, official) -> None:
    officer = db.session.get(User, official.id)
    names = [o.name for o in services.verification_queue(actor=officer)]
    assert names.index("HTX Nông nghiệp Thử nghiệm") < names.index("HTX Khác")
    services.verify_organisation(
        actor=officer, organisation=db.session.get(Organisation, member.organisation_id)
    )
    assert "HTX Nông nghiệp Thử nghiệm" not in [
        o.name for o in services.verification_queue(actor=officer)
    ]
