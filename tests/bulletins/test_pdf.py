"""The demo's bulletins, and their PDF with every Vietnamese letter in place."""

from __future__ import annotations

import io
import itertools

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from market.bulletins.demo import weekly_bulletins
from market.bulletins.models import Bulletin
from market.bulletins.pdf import font_face_css, render_pdf
from market.extensions import db


@pytest.fixture
def demo_bulletins(ctx) -> list[Bulletin]:
    from market.demo import organisations
    from market.prices.demo import price_history

    organisations()
    price_history()
    report = weekly_bulletins()
    db.session.commit()
    assert report == "4 weekly price bulletins"
    return list(db.session.scalars(select(Bulletin).order_by(Bulletin.period_start)))


def _text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def _fonts(data: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def test_the_demo_publishes_the_last_weeks(demo_bulletins) -> None:
    assert len(demo_bulletins) == 4
    assert all(b.is_current and b.published_by is not None for b in demo_bulletins)
    starts = [b.period_start for b in demo_bulletins]
    assert all((b - a).days == 7 for a, b in itertools.pairwise(starts))
    latest = demo_bulletins[-1]
    assert "Tăng giá" in latest.commentary or "Giảm giá" in latest.commentary
    assert weekly_bulletins() is None  # the demo twice changes nothing


def test_pdf_of_a_demo_bulletin_has_the_vietnamese_text(client, demo_bulletins) -> None:
    bulletin = demo_bulletins[-1]
    response = client.get(f"/bulletins/{bulletin.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    text = _text(response.data)
    for words in ("Cà phê", "Hồ tiêu", "Lợn hơi", "Sở Công Thương", "Bản tin giá cả thị trường"):
        assert words in text, words
    assert "Biến động mạnh nhất so với tuần trước" in text and "Nhận định" in text
    fonts = _fonts(response.data)
    assert fonts and all("DejaVu-Sans" in name for name in fonts), fonts  # no fallback font
    # Published bulletins are rendered once and then served from the instance folder.
    again = client.get(f"/bulletins/{bulletin.id}.pdf")
    assert again.data == response.data


def test_pdf_stylesheet_names_dejavu_sans(ctx) -> None:
    css = font_face_css()
    assert 'font-family: "DejaVu Sans"' in css and "DejaVuSans.ttf" in css
    assert "DejaVuSans-Bold.ttf" in css


def test_pdf_in_english(ctx, demo_bulletins) -> None:
    text = _text(render_pdf(demo_bulletins[0], locale="en"))
    assert "Department of Industry and Trade" in text and "Live hog" in text
    assert "Biggest movers against the previous week" in text
