"""HTML pages: a search page that works without JavaScript."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from markupsafe import Markup

from search.errors import QueryError

bp = Blueprint("views", __name__)


@bp.get("/")
def index():
    from web import engine

    q = request.args.get("q", "")
    result = None
    error = None
    if q.strip():
        try:
            result = engine().search(q, page=request.args.get("page", "1"), size=request.args.get("size", "10"))
        except QueryError as exc:
            error = exc.message
    status = 400 if error else 200
    return render_template("search.html", q=q, result=result, error=error, Markup=Markup), status
