"""Demo data for a newcomer's first look: real communes, plausible organisations.

Each domain adds a step with ``@step``; ``load_demo`` runs them in order, and each step
leaves alone what it already made, so running the demo twice changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import select

from market.accounts.models import Role, User
from market.accounts.services import hash_password
from market.audit.services import record
from market.catalogue.models import Commodity
from market.db import utcnow
from market.extensions import db
from market.orgs.models import (
    Certification,
    CertificationKind,
    CertificationStatus,
    Membership,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
)
from market.text import fold, slugify

log = logging.getLogger(__name__)

DEMO_PASSWORD = "quangtri2026"
OFFICIAL_EMAIL = "canbo@example.com"
ADMIN_EMAIL = "quantri@example.com"

Step = Callable[[], str | None]
_steps: list[tuple[int, Step]] = []


def step(order: int) -> Callable[[Step], Step]:
    def register(fn: Step) -> Step:
        _steps.append((order, fn))
        return fn

    return register


def load_demo() -> list[str]:
    """Run every registered demo step; returns what each one reported."""
    import market.demo_steps  # noqa: F401  - domains' steps register on import

    reports = []
    for _order, fn in sorted(_steps, key=lambda s: s[0]):
        message = fn()
        db.session.flush()
        if message:
            reports.append(message)
    return reports


# (kind, name, ward code, tax code, description, status, owner name, certifications)
# certifications: (kind, number, issuer, commodity code, years valid, OCOP stars)
ORGANISATIONS = [
    (
        "cooperative",
        "HTX Nông nghiệp Khe Sanh",
        "19429",
        "3200712345",
        "Cà phê chè (Arabica) Khe Sanh trồng trên đất đỏ bazan, 120 ha, sơ chế ướt tại chỗ.",
        "verified",
        "Hồ Văn Thành",
        [
            (
                "vietgap",
                "VietGAP-TT-21-05-32-0001",
                "Trung tâm Chứng nhận Phù hợp QUACERT",
                "ca_phe_arabica_nhan",
                3,
                None,
            ),
            ("ocop", "OCOP-QT-2024-017", "UBND tỉnh Quảng Trị", "ca_phe_arabica_nhan", 3, 4),
        ],
    ),
    (
        "cooperative",
        "HTX Hồ tiêu Vĩnh Linh",
        "19363",
        "3200654321",
        "Hồ tiêu Vĩnh Linh canh tác hữu cơ, 45 ha, sản lượng khoảng 60 tấn/năm.",
        "verified",
        "Trần Thị Hoa",
        [
            ("organic", "TCVN11041-HC-0392", "Viện Môi trường Nông nghiệp", "ho_tieu_den", 2, None),
            ("puc", "VN-QTOR-0107", "Chi cục Trồng trọt và BVTV Quảng Trị", "ho_tieu_den", 5, None),
        ],
    ),
    (
        "cooperative",
        "HTX Dịch vụ Nông nghiệp Triệu Phong",
        "19624",
        "3200598765",
        "Lúa chất lượng cao (HT1, Đài Thơm 8) trên 300 ha cánh đồng mẫu lớn; "
        "có máy sấy 50 tấn/ngày.",
        "verified",
        "Lê Quang Minh",
        [
            (
                "vietgap",
                "VietGAP-TT-22-11-32-0045",
                "Công ty CP Chứng nhận Bảo Tín",
                "lua_ht1",
                3,
                None,
            )
        ],
    ),
    (
        "cooperative",
        "HTX Lúa hữu cơ Hải Lăng",
        "19702",
        "3200611223",
        "Lúa hữu cơ theo chuỗi liên kết, 80 ha, nhận đặt hàng trước vụ.",
        "pending",
        "Nguyễn Văn Hùng",
        [("organic", "HC-2025-HL-014", "Viện Môi trường Nông nghiệp", "lua_huu_co", 2, None)],
    ),
    (
        "cooperative",
        "HTX Sắn Hướng Phùng",
        "19441",
        "3200633445",
        "Sắn tươi cung ứng cho nhà máy tinh bột, 200 ha, người Vân Kiều và Kinh cùng sản xuất.",
        "verified",
        "Hồ Thị Lan",
        [],
    ),
    (
        "cooperative",
        "HTX Chăn nuôi Cam Lộ",
        "19597",
        None,
        "Lợn hơi và bò thịt nuôi theo hướng an toàn sinh học.",
        "pending",
        "Phan Văn Tâm",
        [],
    ),
    (
        "household",
        "Hộ ông Lê Văn Bình",
        "19495",
        None,
        "Hộ trồng tiêu và sắn ở Gio Linh, khoảng 3 ha.",
        "pending",
        "Lê Văn Bình",
        [],
    ),
    (
        "cooperative",
        "HTX Thủy sản Cửa Việt",
        "19496",
        "3200677889",
        "Tôm thẻ chân trắng nuôi ao lót bạt, 25 ha mặt nước, thu hoạch 2 vụ/năm.",
        "verified",
        "Võ Đình Sơn",
        [("globalgap", "GGN-4063061234567", "Control Union", "tom_the_chan_trang", 1, None)],
    ),
    (
        "cooperative",
        "HTX Dược liệu Ba Lòng",
        "19567",
        "3200644556",
        "Cà gai leo và chè vằng sấy khô, sản phẩm OCOP 3 sao.",
        "verified",
        "Hồ Văn Nam",
        [("ocop", "OCOP-QT-2023-052", "UBND tỉnh Quảng Trị", "ca_gai_leo", 3, 3)],
    ),
    (
        "cooperative",
        "HTX Nông nghiệp Lệ Thủy",
        "19249",
        "3100455667",
        "Lúa và gạo Lệ Thủy, 250 ha; liên kết tiêu thụ với doanh nghiệp xay xát.",
        "verified",
        "Đặng Thị Mai",
        [
            (
                "vietgap",
                "VietGAP-TT-23-02-44-0012",
                "Trung tâm Chứng nhận Phù hợp QUACERT",
                "lua_dai_thom_8",
                3,
                None,
            )
        ],
    ),
    (
        "enterprise",
        "Công ty CP Chế biến Nông sản Đông Hà",
        "19333",
        "3200123456",
        "Thu mua, sơ chế và xuất khẩu cà phê, hồ tiêu; kho 5.000 tấn tại Đông Hà.",
        "verified",
        "Nguyễn Hữu Phước",
        [],
    ),
    (
        "enterprise",
        "Công ty TNHH Lương thực Đồng Hới",
        "18880",
        "3100234567",
        "Xay xát và phân phối gạo; cần nguồn lúa VietGAP ổn định.",
        "verified",
        "Trương Minh Khôi",
        [],
    ),
    (
        "enterprise",
        "Công ty CP Thực phẩm Xanh Đà Nẵng",
        "20242",
        "0401234567",
        "Chuỗi siêu thị thực phẩm sạch tại Đà Nẵng; tìm rau, gạo hữu cơ và tôm đạt chứng nhận.",
        "verified",
        "Phạm Thu Trang",
        [],
    ),
    (
        "trader",
        "Đại lý thu mua Nguyễn Văn Tư",
        "19360",
        None,
        "Thu mua sắn, lạc và hồ tiêu tại thị xã Quảng Trị cũ.",
        "pending",
        "Nguyễn Văn Tư",
        [],
    ),
]


def _user(email: str, name: str, role: Role = Role.member) -> User:
    user = User(
        email=email,
        password_hash=hash_password(DEMO_PASSWORD),
        name=name,
        role=role,
        locale="vi",
        email_verified_at=utcnow(),
    )
    db.session.add(user)
    return user


@step(10)
def organisations() -> str | None:
    """Staff accounts, cooperatives, households and buyers with their certificates."""
    if db.session.scalar(select(User.id).where(User.email == OFFICIAL_EMAIL)) is not None:
        return None
    official = _user(OFFICIAL_EMAIL, "Nguyễn Thị Thu Hà", Role.official)
    _user(ADMIN_EMAIL, "Quản trị hệ thống", Role.admin)
    db.session.flush()
    commodities = {c.code: c for c in db.session.scalars(select(Commodity))}
    today = date.today()
    for index, (kind, name, ward, tax, about, status, owner, certs) in enumerate(ORGANISATIONS):
        slug = slugify(name)
        organisation = Organisation(
            kind=OrganisationKind(kind),
            name=name,
            name_folded=fold(name),
            slug=slug,
            tax_code=tax,
            ward_code=ward,
            phone=f"0233 3{index:02d} {index * 37 % 1000:03d}",
            email=f"{slug.replace('-', '.')[:40]}@example.com",
            description=about,
            status=OrganisationStatus(status),
        )
        if organisation.status == OrganisationStatus.verified:
            organisation.status_changed_at = utcnow() - timedelta(days=30 - index)
            organisation.status_changed_by_id = official.id
        db.session.add(organisation)
        if organisation.status == OrganisationStatus.verified:
            db.session.flush()
            record(actor=official, action="organisation.verified", subject=organisation)
        db.session.add(
            Membership(
                user=_user(f"{slug.replace('-', '.')[:40]}@example.com", owner),
                organisation=organisation,
                role="owner",
            )
        )
        for cert_kind, number, issuer, commodity, years, stars in certs:
            checked = organisation.status == OrganisationStatus.verified
            db.session.add(
                Certification(
                    organisation=organisation,
                    kind=CertificationKind(cert_kind),
                    number=number,
                    issuer=issuer,
                    commodity=commodities.get(commodity),
                    valid_from=today - timedelta(days=200),
                    valid_until=today - timedelta(days=200) + timedelta(days=365 * years),
                    ocop_stars=stars,
                    status=CertificationStatus.checked
                    if checked
                    else CertificationStatus.unchecked,
                    checked_at=utcnow() if checked else None,
                    checked_by_id=official.id if checked else None,
                )
            )
    db.session.flush()
    return f"{len(ORGANISATIONS)} organisations, 2 staff accounts (password: {DEMO_PASSWORD})"
