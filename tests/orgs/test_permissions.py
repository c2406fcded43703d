"""Every forbidden action is refused, in the service and through the web."""

import io

import pytest

from market.accounts.models import User
from market.extensions import db
from market.orgs import services
from market.orgs.models import Certification, Organisation
from market.permissions import PermissionDenied
from tests.conftest import log_in

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _profile(**overrides) -> dict:
    data = {
        "name": "HTX Bị Sửa Trộm",
        "kind": "cooperative",
        "tax_code": "123",
        "province": "44",
        "ward_code": "19429",
        "address": "",
        "phone": "",
        "email": "",
        "description": "",
    }
    data.update(overrides)
    return data


def test_member_cannot_edit_another_organisation_in_the_service(ctx, member, other_member) -> None:
    actor = db.session.get(User, member.id)
    target = db.session.get(Organisation, other_member.organisation_id)
    with pytest.raises(PermissionDenied):
        services.update_organisation(
            actor=actor,
            organisation=target,
            **{k: v for k, v in _profile().items() if k != "province"},
        )


def test_official_cannot_edit_an_organisation_profile(ctx, member, official) -> None:
    actor = db.session.get(User, official.id)
    target = db.session.get(Organisation, member.organisation_id)
    with pytest.raises(PermissionDenied):
        services.update_organisation(
            actor=actor,
            organisation=target,
            **{k: v for k, v in _profile().items() if k != "province"},
        )


def test_member_cannot_verify_suspend_or_check(ctx, member, other_member) -> None:
    actor = db.session.get(User, member.id)
    target = db.session.get(Organisation, other_member.organisation_id)
    with pytest.raises(PermissionDenied):
        services.verify_organisation(actor=actor, organisation=target)
    with pytest.raises(PermissionDenied):
        services.suspend_organisation(actor=actor, organisation=target, reason="ghét")
    with pytest.raises(PermissionDenied):
        services.verify_organisation(actor=actor, organisation=actor.organisation)
    cert = services.add_certification(
        actor=db.session.get(User, other_member.id),
        organisation=target,
        kind="vietgap",
        number="V1",
    )
    with pytest.raises(PermissionDenied):
        services.check_certification(actor=actor, certification=cert, status="checked")
    with pytest.raises(PermissionDenied):
        services.remove_certification(actor=actor, certification=cert)
    with pytest.raises(PermissionDenied):
        services.verification_queue(actor=actor)


def test_member_cannot_open_the_verification_queue(client, member) -> None:
    log_in(client, member)
    for url in (
        "/department/",
        "/department/verification",
        "/department/audit",
        f"/department/organisations/{member.organisation_id}",
    ):
        assert client.get(url).status_code == 403, url
    assert (
        client.post(f"/department/organisations/{member.organisation_id}/verify").status_code == 403
    )


def test_anonymous_visitor_is_sent_to_log_in(client, member) -> None:
    response = client.get("/department/verification")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert client.get("/my/organisation").status_code == 302


def test_member_cannot_remove_or_read_another_organisations_certificate(
    app, client, member, other_member
) -> None:
    with app.app_context():
        owner = db.session.get(User, other_member.id)
        cert = services.add_certification(
            actor=owner,
            organisation=owner.organisation,
            kind="organic",
            number="HC-1",
            document=services.Upload("giay.pdf", io.BytesIO(PDF)),
        )
        db.session.commit()
        cert_id = cert.id
    log_in(client, member)
    assert client.get(f"/certifications/{cert_id}/document").status_code == 403
    assert client.post(f"/my/organisation/certifications/{cert_id}/delete").status_code == 403
    with app.app_context():
        assert db.session.get(Certification, cert_id) is not None


def test_owner_and_official_can_read_the_document(app, member, official) -> None:
    with app.app_context():
        owner = db.session.get(User, member.id)
        cert = services.add_certification(
            actor=owner,
            organisation=owner.organisation,
            kind="organic",
            number="HC-2",
            document=services.Upload("giay.pdf", io.BytesIO(PDF)),
        )
        db.session.commit()
        cert_id = cert.id
    for account in (member, official):
        client = app.test_client()
        log_in(client, account)
        with client.get(f"/certifications/{cert_id}/document") as response:
            assert response.status_code == 200, account.email
            assert response.data == PDF
            assert response.mimetype == "application/pdf"


def test_suspended_organisation_is_hidden_from_the_public(app, client, member, official) -> None:
    with app.app_context():
        services.suspend_organisation(
            actor=db.session.get(User, official.id),
            organisation=db.session.get(Organisation, member.organisation_id),
            reason="Giấy tờ giả",
        )
        db.session.commit()
    response = client.get(f"/orgs/{member.organisation_slug}")
    assert response.status_code in (302, 403)
    log_in(client, member)
    assert client.get(f"/orgs/{member.organisation_slug}").status_code == 200
