"""``GET /api/suggest?q=``: what to search for, as the user types (words, speakers, titles).

The search box's combobox (``web/static/app.js``) asks this on each keystroke.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from search.suggest import MAX_LIMIT
from web import params

bp = Blueprint("suggest", __name__)

SUGGEST_PARAMS = ("q", "limit")
#: Route → the query parameters it accepts (documented in ``web/openapi.py``).
ENDPOINT_PARAMS = {"/api/suggest": SUGGEST_PARAMS}
PREFIX_MAX = 100


@bp.get("/api/suggest")
def suggest():
    from web import engine
    from web.api import check_params

    check_params(SUGGEST_PARAMS)
    q = params.bounded_text(request.args, "q", PREFIX_MAX)
    limit = params.integer(request.args, "limit", default=8, maximum=MAX_LIMIT)
    eng = engine()  # 503 without an index, even for an empty q
    return jsonify({"q": q, "suggestions": eng.suggest(q, limit) if q else []})
