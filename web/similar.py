"""``GET /api/articles/<id>/similar``: an article's other versions and related coverage."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from web import params

bp = Blueprint("similar", __name__)

SIMILAR_PARAMS = ("limit",)
#: Route → the query parameters it accepts (documented in ``web/openapi.py``).
ENDPOINT_PARAMS = {"/api/articles/{id}/similar": SIMILAR_PARAMS}
LIMIT_MAX = 50


@bp.get("/api/articles/<path:article_id>/similar")
def similar(article_id: str):
    from web import engine
    from web.api import check_params

    check_params(SIMILAR_PARAMS)
    limit = params.integer(request.args, "limit", default=10, maximum=LIMIT_MAX)
    return jsonify(engine().similar(article_id, limit))
