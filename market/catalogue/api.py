"""Reference data as JSON, for the commune picker and for other programs."""

from flask import Blueprint, jsonify, request

from market.catalogue import services

bp = Blueprint("catalogue_api", __name__, url_prefix="/api/v1")


@bp.get("/wards")
def wards():
    province = request.args.get("province", "").strip()
    rows = services.wards_of(province) if province else []
    return jsonify(
        [{"code": w.code, "name": w.name, "type": w.type, "lat": w.lat, "lon": w.lon} for w in rows]
    )
