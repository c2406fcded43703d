"""Demo: the last few weekly bulletins, drafted from the demo prices and published by the demo
official, with a short commentary written from the figures."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import force_locale
from sqlalchemy import select

from market.accounts.models import User
from market.bulletins import services
from market.bulletins.models import Bulletin
from market.demo import OFFICIAL_EMAIL, step
from market.errors import DomainError
from market.extensions import db
from market.site.i18n import format_number
from market.urls import absolute_url

WEEKS = 4


def _number(value) -> str:
    """1.234 (or 1,33 below a hundred): the commentary is Vietnamese whoever runs the demo."""
    with force_locale("vi"):
        return format_number(value, 0 if value >= 100 else 2)


def _percent(value) -> str:
    with force_locale("vi"):
        return format_number(abs(value), 1)


def commentary_for(bulletin: Bulletin) -> str:
    """A plausible commentary in the department's voice, from the bulletin's own figures."""
    up, down = services.movers(bulletin, n=3)
    lines = [
        "Trong tuần, giá phần lớn nông sản chủ lực của tỉnh biến động nhẹ so với tuần trước.",
        "",
    ]
    if up:
        lines.append("**Tăng giá:**")
        lines += [
            f"- {i.commodity.name_vi}: bình quân {_number(i.average)} đ/{i.unit_code}, "
            f"tăng {_percent(i.previous_change)} %."
            for i in up
        ]
        lines.append("")
    if down:
        lines.append("**Giảm giá:**")
        lines += [
            f"- {i.commodity.name_vi}: bình quân {_number(i.average)} đ/{i.unit_code}, "
            f"giảm {_percent(i.previous_change)} %."
            for i in down
        ]
        lines.append("")
    if any(i.anomaly_level == "alert" for i in bulletin.included_items):
        lines.append(
            "Sở Công Thương khuyến nghị người chăn nuôi và thương lái theo dõi sát diễn biến "
            "giá các mặt hàng có cảnh báo, tránh bán tháo hoặc găm hàng."
        )
        lines.append("")
    lines.append(
        "*Số liệu minh họa, không phải số liệu thật.* Xem thêm giá từng thị trường tại "
        f"[bảng giá nông sản]({absolute_url('prices.board')})."
    )
    return "\n".join(lines)


@step(50)
def weekly_bulletins(today: date | None = None) -> str | None:
    """Publish the bulletins of the last complete weeks from the demo prices."""
    if db.session.scalar(select(Bulletin.id).limit(1)) is not None:
        return None
    official = db.session.scalar(select(User).where(User.email == OFFICIAL_EMAIL))
    today = today or date.today()
    published = 0
    for weeks_back in range(WEEKS, 0, -1):
        day = today - timedelta(weeks=weeks_back)
        try:
            outcome = services.draft_bulletin(actor=None, period="week", day=day, today=today)
        except DomainError:
            continue  # no demo prices that week
        bulletin = outcome.bulletin
        bulletin.commentary = commentary_for(bulletin)
        services.publish_bulletin(actor=official, bulletin=bulletin)
        published += 1
    return f"{published} weekly price bulletins" if published else None
