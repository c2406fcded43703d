"""Read-only JSON of the published bulletins.

``GET /api/v1/bulletins`` lists the current version of each published bulletin, newest period
first (``page``, ``per_page`` up to 100, ``next`` while more remain); ``GET
/api/v1/bulletins/<id>`` gives one published version with its price table. Prices are numbers
in ``currency`` per ``unit``; changes are per cent; an item without ``market`` covers every
market that reported.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, request

from market.bulletins import services
from market.bulletins.markdown import render_markdown
from market.bulletins.models import Bulletin, BulletinItem
from market.urls import absolute_url

bp = Blueprint("bulletins_api", __name__, url_prefix="/api/v1")
MAX_PER_PAGE = 100


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _error(status: int, message: str):
    return jsonify({"error": {"status": status, "message": message}}), status


def _summary(bulletin: Bulletin) -> dict[str, Any]:
    return {
        "id": bulletin.id,
        "title": bulletin.title,
        "period": bulletin.period_kind,
        "period_start": bulletin.period_start.isoformat(),
        "period_end": bulletin.period_end.isoformat(),
        "version": bulletin.version,
        "correction_note": bulletin.correction_note,
        "supersedes": bulletin.supersedes_id,
        "current": bulletin.is_current,
        "published_at": bulletin.published_at.isoformat() if bulletin.published_at else None,
        "url": absolute_url("bulletins.show", bulletin_id=bulletin.id),
        "pdf": absolute_url("bulletins.pdf", bulletin_id=bulletin.id),
        "csv": absolute_url("bulletins.table", bulletin_id=bulletin.id, kind="csv"),
        "xlsx": absolute_url("bulletins.table", bulletin_id=bulletin.id, kind="xlsx"),
        "api": absolute_url("bulletins_api.bulletin_detail", bulletin_id=bulletin.id),
    }


def _item(item: BulletinItem) -> dict[str, Any]:
    return {
        "commodity": item.commodity.code,
        "commodity_vi": item.commodity.name_vi,
        "commodity_en": item.commodity.name_en,
        "market": item.market.code if item.market else None,
        "market_name": item.market.name if item.market else None,
        "markets": item.markets,
        "price_type": item.price_type,
        "unit": item.unit_code,
        "currency": item.currency,
        "average": _number(item.average),
        "minimum": _number(item.minimum),
        "maximum": _number(item.maximum),
        "previous_average": _number(item.previous_average),
        "change_previous_pct": _number(item.previous_change),
        "year_ago_average": _number(item.year_ago_average),
        "change_year_ago_pct": _number(item.year_ago_change),
        "anomaly": {"level": item.anomaly_level, "method": item.anomaly_method}
        if item.anomaly_level
        else None,
        "days": item.days,
        "observations": item.observations,
        "sources": item.sources,
        "note": item.note,
    }


@bp.get("/bulletins")
def bulletin_list():
    try:
        page = max(1, int(request.args.get("page", 1)))
        per_page = min(MAX_PER_PAGE, max(1, int(request.args.get("per_page", 20))))
    except ValueError:
        return _error(400, "page and per_page must be whole numbers")
    bulletins, total = services.published(page=page, per_page=per_page)
    more = page * per_page < total
    return jsonify(
        {
            "bulletins": [_summary(b) for b in bulletins],
            "page": page,
            "per_page": per_page,
            "total": total,
            "next": absolute_url("bulletins_api.bulletin_list", page=page + 1, per_page=per_page)
            if more
            else None,
        }
    )


@bp.get("/bulletins/<int:bulletin_id>")
def bulletin_detail(bulletin_id: int):
    bulletin = services.get_published(bulletin_id)
    if bulletin is None:
        abort(404)  # the app's handler answers in JSON on /api/, in the reader's language
    up, down = services.movers(bulletin)
    versions = services.versions_of(bulletin)
    current = services.current_of(versions)
    return jsonify(
        {
            **_summary(bulletin),
            "current_version": current.id if current else None,
            "versions": [v.id for v in versions],
            "commentary_markdown": bulletin.commentary,
            "commentary_html": str(render_markdown(bulletin.commentary)),
            "items": [_item(i) for i in bulletin.included_items],
            "movers": {
                "up": [_item(i) for i in up],
                "down": [_item(i) for i in down],
            },
        }
    )
