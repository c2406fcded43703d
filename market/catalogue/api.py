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


@bp.get("/commodities")
def commodity_list():
    return jsonify(
        {
            "commodities": [
                {
                    "code": c.code,
                    "name_vi": c.name_vi,
                    "name_en": c.name_en,
                    "category": c.category,
                    "default_unit": c.default_unit_code,
                    "aliases": [a.alias for a in c.aliases],
                }
                for c in services.commodities(with_aliases=True)
            ]
        }
    )
