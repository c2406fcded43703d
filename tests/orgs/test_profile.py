"""The member's own organisation page: profile and certificates, with uploads checked."""

import io

from PIL import Image
from sqlalchemy import select

from market.extensions import db
from market.orgs.models import Certification, Organisation
from tests.conftest import log_in

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), "green").save(buffer, format="PNG")
    return buffer.getvalue()


def test_fill_in_the_profile(app, client, member) -> None:
    log_in(client, member)
    page = client.get("/my/organisation").get_data(as_text=True)
    assert "Xã Khe Sanh" in page  # communes of Quảng Trị offered by default
    response = client.post(
        "/my/organisation",
        data={
            "name": "HTX Nông nghiệp Thử nghiệm",
            "kind": "cooperative",
            "tax_code": "3200999888",
            "province": "44",
            "ward_code": "19429",
            "address": "Thôn 3",
            "phone": "0233 3888 999",
            "email": "lienhe@example.com",
            "description": "Cà phê Arabica",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        organisation = db.session.get(Organisation, member.organisation_id)
        assert organisation.ward.name == "Xã Khe Sanh" and organisation.profile_complete


def test_profile_errors_keep_what_was_typed(client, member) -> None:
    log_in(client, member)
    response = client.post(
        "/my/organisation",
        data={
            "name": "",
            "kind": "cooperative",
            "tax_code": "3200999888",
            "province": "44",
            "ward_code": "19429",
            "address": "Thôn 3, đường Lê Duẩn",
            "email": "khong hop le",
        },
    )
    page = response.get_data(as_text=True)
    assert "Ô này là bắt buộc." in page and "Nhập một địa chỉ e-mail hợp lệ." in page
    assert 'value="Thôn 3, đường Lê Duẩn"' in page and 'value="3200999888"' in page


def test_commune_from_another_province(client, member) -> None:
    log_in(client, member)
    page = client.post(
        "/my/organisation",
        data={"name": "X", "kind": "trader", "province": "48", "ward_code": "20242"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Đã lưu hồ sơ." in page and "Phường Hải Châu" in page


def test_add_certificates_with_documents(app, client, member) -> None:
    log_in(client, member)
    response = client.post(
        "/my/organisation/certifications",
        data={
            "cert-kind": "ocop",
            "cert-number": "OCOP-QT-1",
            "cert-issuer": "UBND tỉnh",
            "cert-ocop_stars": "4",
            "cert-valid_from": "2026-01-01",
            "cert-valid_until": "2029-01-01",
            "cert-document": (io.BytesIO(_png()), "anh.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context():
        cert = db.session.scalar(select(Certification).where(Certification.number == "OCOP-QT-1"))
        assert cert.ocop_stars == 4 and cert.document_type == "image/png"
    page = client.get(f"/orgs/{member.organisation_slug}").get_data(as_text=True)
    assert "OCOP" in page and "★★★★" in page and "01/01/2029" in page


def test_fake_pdf_is_refused_and_the_form_keeps_its_values(app, client, member) -> None:
    log_in(client, member)
    response = client.post(
        "/my/organisation/certifications",
        data={
            "cert-kind": "vietgap",
            "cert-number": "VG-123",
            "cert-document": (io.BytesIO(b"MZ\x90\x00 not a pdf at all"), "giay.pdf"),
        },
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Giấy tờ phải là tệp PDF hoặc ảnh" in page
    assert 'value="VG-123"' in page
    with app.app_context():
        assert (
            db.session.scalar(select(Certification).where(Certification.number == "VG-123")) is None
        )


def test_oversized_document_is_refused(app, client, member) -> None:
    app.config["MARKET_DOCUMENT_MAX_BYTES"] = 1024
    try:
        log_in(client, member)
        response = client.post(
            "/my/organisation/certifications",
            data={
                "cert-kind": "vietgap",
                "cert-number": "VG-BIG",
                "cert-document": (io.BytesIO(PDF + b"0" * 2048), "giay.pdf"),
            },
            content_type="multipart/form-data",
        )
    finally:
        app.config["MARKET_DOCUMENT_MAX_BYTES"] = 5 * 1024 * 1024
    assert response.status_code == 400
    assert "Tệp quá lớn" in response.get_data(as_text=True)


def test_ocop_needs_stars(client, member) -> None:
    log_in(client, member)
    response = client.post(
        "/my/organisation/certifications",
        data={"cert-kind": "ocop", "cert-number": "OCOP-X"},
        content_type="multipart/form-data",
    )
    assert "3, 4 hoặc 5 sao" in response.get_data(as_text=True)


def test_directory_search_ignores_accents(app, client, member, official) -> None:
    from market.accounts.models import User
    from market.orgs.services import verify_organisation

    with app.app_context():
        verify_organisation(
            actor=db.session.get(User, official.id),
            organisation=db.session.get(Organisation, member.organisation_id),
        )
        db.session.commit()
    page = client.get("/orgs?q=nong+nghiep+thu").get_data(as_text=True)
    assert "HTX Nông nghiệp Thử nghiệm" in page
    page = client.get("/orgs?q=khong+co").get_data(as_text=True)
    assert "HTX Nông nghiệp Thử nghiệm" not in page
