"""The Atom feed of published bulletins (RFC 4287), with absolute links from MARKET_BASE_URL.

Each period is one entry whose id never changes; a published correction updates the entry
(newer ``updated``, the correction note in the summary), so feed readers show it again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from flask import current_app
from flask_babel import gettext as _

from market.bulletins import services
from market.bulletins.markdown import render_markdown
from market.bulletins.models import Bulletin
from market.urls import absolute_url

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _stamp(value: datetime | None) -> str:
    value = value or datetime.now(UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _entry_id(bulletin: Bulletin) -> str:
    """tag: URI (RFC 4151) naming the period, stable across corrections."""
    host = urlsplit(current_app.config["MARKET_BASE_URL"]).hostname or "localhost"
    return (
        f"tag:{host},{bulletin.period_start.year}:bulletin/"
        f"{bulletin.period_kind}/{bulletin.period_start.isoformat()}"
    )


def _add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def atom_feed(bulletins: list[Bulletin], *, locale: str) -> bytes:
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {XML_LANG: locale})
    _add(feed, "id", absolute_url("bulletins.archive"))
    _add(feed, "title", _("Market price bulletins of Quảng Trị"))
    _add(feed, "subtitle", _("Department of Industry and Trade of Quảng Trị province"))
    updated = max((b.published_at for b in bulletins if b.published_at), default=None)
    _add(feed, "updated", _stamp(updated))
    _add(feed, "link", rel="self", type="application/atom+xml", href=absolute_url("bulletins.feed"))
    _add(feed, "link", rel="alternate", type="text/html", href=absolute_url("bulletins.archive"))
    author = _add(feed, "author")
    _add(author, "name", _("Department of Industry and Trade of Quảng Trị province"))
    for bulletin in bulletins:
        entry = _add(feed, "entry")
        _add(entry, "id", _entry_id(bulletin))
        _add(entry, "title", bulletin.title)
        _add(entry, "updated", _stamp(bulletin.published_at))
        link = absolute_url("bulletins.show", bulletin_id=bulletin.id)
        _add(entry, "link", rel="alternate", type="text/html", href=link)
        pdf = absolute_url("bulletins.pdf", bulletin_id=bulletin.id)
        _add(entry, "link", rel="alternate", type="application/pdf", href=pdf)
        summary = services.period_label(
            bulletin.period_kind, bulletin.period_start, bulletin.period_end
        )
        if bulletin.correction_note:
            summary += " · " + _("Correction: %(note)s", note=bulletin.correction_note)
        _add(entry, "summary", summary, type="text")
        commentary = str(render_markdown(bulletin.commentary))
        if commentary:
            _add(entry, "content", commentary, type="html")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
