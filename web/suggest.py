"""``GET /api/suggest?q=``: what to search for, as the user types (words, speakers, titles).

The search box's combobox (``web/static/app.js``) asks this on each keystroke.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from search.errors import QueryError
from search.suggest import MAX_LIMIT

bp = Blueprint("suggest", __name__)

SUGGEST_PARAMS = ("q", "limit")
#: Route → the query parameters it accepts (documented in ``web/openapi.py``).
ENDPOINT_PARAMS = {"/api/suggest": SUGGEST_PARAMS}
PREFIX_MAX = 100


def bounded_int(name: str, default: int, low: int, high: int) -> int:
    """The integer query parameter ``name`` (``default`` when absent), or a 400 naming it."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9) or not low <= int(raw) <= high:
        raise QueryError(f"{name} must be an integer between {low:,} and {high:,}, got {raw[:20]!r}", param=name)
    return int(raw)


@bp.get("/api/suggest")
def suggest():
    from web import engine
    from web.api import check_params

    check_params(SUGGEST_PARAMS)
    q = request.args.get("q", "").strip()
    if len(q) > PREFIX_MAX:
        raise QueryError(f"q must be at most {PREFIX_MAX} characters", param="q")
    limit = bounded_int("limit", 8, 1, MAX_LIMIT)
    eng = engine()  # 503 without an index, even for an empty q
    return jsonify({"q": q, "suggestions": eng.suggest(q, limit) if q else []})
