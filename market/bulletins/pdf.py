"""The bulletin as a PDF: the page's content through WeasyPrint, in DejaVu Sans.

Vietnamese needs a font with every precomposed letter (ầ, ẫ, ự, ỹ, đ, ...): DejaVu Sans has
them and ships with Debian (``fonts-dejavu-core``, at /usr/share/fonts/truetype/dejavu); set
``MARKET_BULLETIN_FONT_DIR`` to use a copy elsewhere. The stylesheet loads the font files
from that directory by name (``@font-face``), so the PDF does not depend on whatever
fontconfig would substitute, and embeds the subset it uses.

WeasyPrint fetches nothing from the network: only ``data:`` URLs and files in the font
directory are allowed. A published bulletin never changes, so its PDF is kept in the instance
folder (one file per bulletin and language) and rendered once.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template
from flask_babel import force_locale
from markupsafe import Markup

from market.bulletins import services
from market.bulletins.models import Bulletin
from market.urls import absolute_url

DEFAULT_FONT_DIR = "/usr/share/fonts/truetype/dejavu"
FONT_FAMILY = "DejaVu Sans"
FONT_FILES = {
    ("normal", "normal"): "DejaVuSans.ttf",
    ("bold", "normal"): "DejaVuSans-Bold.ttf",
    ("normal", "italic"): "DejaVuSans-Oblique.ttf",
    ("bold", "italic"): "DejaVuSans-BoldOblique.ttf",
}


def font_dir() -> Path:
    return Path(current_app.config.get("MARKET_BULLETIN_FONT_DIR") or DEFAULT_FONT_DIR)


def font_face_css() -> str:
    """``@font-face`` rules for the DejaVu files that exist (``local()`` as a fallback)."""
    rules = []
    for (weight, style), name in FONT_FILES.items():
        path = font_dir() / name
        sources = [f'local("{FONT_FAMILY}")']
        if path.exists():
            sources.insert(0, f'url("{path.as_uri()}")')
        rules.append(
            f'@font-face {{ font-family: "{FONT_FAMILY}"; font-weight: {weight}; '
            f"font-style: {style}; src: {', '.join(sources)}; }}"
        )
    return "\n".join(rules)


def _fetcher():
    from weasyprint import URLFetcher

    allowed = font_dir().resolve()

    class FontsOnly(URLFetcher):
        """data: URLs and the font files; nothing else, and never the network."""

        def fetch(self, url, headers=None):  # type: ignore[no-untyped-def]
            scheme = urlsplit(url).scheme.lower()
            if scheme == "file":
                path = Path(unquote(urlsplit(url).path)).resolve()
                if not path.is_relative_to(allowed):
                    raise ValueError(f"not fetched: {url}")
            elif scheme != "data":
                raise ValueError(f"not fetched: {url}")
            return super().fetch(url, headers)

    return FontsOnly(allowed_protocols={"file", "data"})


def render_pdf(bulletin: Bulletin, *, locale: str) -> bytes:
    """The bulletin's content (as on its page) laid out for A4."""
    from weasyprint import CSS, HTML

    with force_locale(locale):
        html = render_template(
            "bulletins/pdf.html",
            locale=locale,
            online_link=absolute_url("bulletins.show", bulletin_id=bulletin.id),
            **services.presentation(bulletin),
        )
    fetcher = _fetcher()
    stylesheet = render_template("bulletins/pdf.css", font_faces=Markup(font_face_css()))
    css = CSS(string=stylesheet, url_fetcher=fetcher)
    return HTML(string=html, url_fetcher=fetcher, base_url=font_dir().as_uri() + "/").write_pdf(
        stylesheets=[css]
    )


def _cache_path(bulletin: Bulletin, locale: str) -> Path:
    stamp = bulletin.published_at.strftime("%Y%m%d%H%M%S") if bulletin.published_at else "x"
    return (
        Path(current_app.instance_path)
        / "bulletins"
        / f"bulletin-{bulletin.id}-v{bulletin.version}-{stamp}-{locale}.pdf"
    )


def pdf_for(bulletin: Bulletin, *, locale: str) -> bytes:
    """The PDF, from the cache when the bulletin is published; drafts are always rendered."""
    if not bulletin.is_published:
        return render_pdf(bulletin, locale=locale)
    path = _cache_path(bulletin, locale)
    try:
        return path.read_bytes()
    except OSError:
        pass
    data = render_pdf(bulletin, locale=locale)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: a reader never sees half a file, two writers do no harm.
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError:
        current_app.logger.warning("could not cache the PDF of bulletin %s", bulletin.id)
    return data
