"""``GET /api/export``: every match of a search as CSV or JSON Lines, streamed.

Same query and filters as ``/api/search``; rows come in the order of the result pages
and are written while the index is read, one article at a time, so an export of tens of
thousands of articles needs no more memory than one of ten (``bench/export.py`` measures it).
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Iterator

from flask import Blueprint, Response, request, stream_with_context, url_for

from search.filters import PARAMS as FILTER_PARAMS
from search.filters import SearchFilters
from search.filters import _bool as parse_bool
from search.model import Hit
from web import params
from web.views import id_path

bp = Blueprint("export", __name__)

#: Most rows one export writes (the ``limit`` parameter lowers it).
EXPORT_MAX = 50_000
FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl; charset=utf-8"}
EXPORT_PARAMS = ("q", "format", "limit", "body", *FILTER_PARAMS)
ENDPOINT_PARAMS = {"/api/export": EXPORT_PARAMS}
CSV_COLUMNS = ("id", "date", "title_zh", "title_en", "source", "url", "speakers", "score", "link")
#: Rows are sent in chunks of about this many characters: a write to the connection per chunk,
#: not per row (a 38,000-row export took 9 s a row at a time, 4 s in chunks).
CHUNK_CHARS = 32 * 1024
#: Spreadsheets run a cell starting with these as a formula: such cells get a leading apostrophe.
_FORMULA = re.compile(r"^[=+\-@\t\r]")


def search_args() -> tuple[str, SearchFilters]:
    """The query (``*`` when absent: everything) and filters of an export or feed request."""
    from web.api import filter_args

    q = request.args.get("q", "").strip() or "*"
    return q, filter_args(request.args)


@bp.get("/api/export")
def export():
    from web import engine
    from web.api import check_params

    check_params(EXPORT_PARAMS)
    fmt = params.choice(request.args, "format", tuple(FORMATS)) or "csv"
    limit = params.integer(request.args, "limit", default=EXPORT_MAX, maximum=EXPORT_MAX)
    bodies = parse_bool(request.args.get("body"), "body", default=False)
    q, filters = search_args()
    total, count, hits = engine().matches(q, filters=filters, limit=limit, bodies=bodies)
    link = url_for("views.article", article_id="ID", _external=True).rsplit("ID", 1)[0]
    rows = batched(csv_rows(hits, link, bodies) if fmt == "csv" else jsonl_rows(hits, link, bodies))
    name = "search-" + (re.sub(r"[^\w-]+", "-", q, flags=re.ASCII).strip("-") or "all")[:40] + "." + fmt
    return Response(
        stream_with_context(rows),
        mimetype=FORMATS[fmt].split(";")[0],
        headers={
            "Content-Type": FORMATS[fmt],
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Total-Count": str(total),
            "X-Export-Count": str(count),
        },
    )


def batched(rows: Iterator[str]) -> Iterator[str]:
    """The rows joined into chunks of at least ``CHUNK_CHARS`` characters (the last may be shorter)."""
    size = CHUNK_CHARS
    pending: list[str] = []
    length = 0
    for row in rows:
        pending.append(row)
        length += len(row)
        if length >= size:
            yield "".join(pending)
            pending, length = [], 0
    if pending:
        yield "".join(pending)


def _speakers(hit: Hit) -> str:
    return "; ".join(" / ".join(n for n in (sp["names"].get("zh"), sp["names"].get("en")) if n) or sp["id"] for sp in hit.speakers)


def _cell(value: object) -> object:
    return "'" + value if isinstance(value, str) and _FORMULA.match(value) else value


def csv_rows(hits: Iterator[Hit], link: str, bodies: bool) -> Iterator[str]:
    """A UTF-8 BOM (so spreadsheets read the Chinese right), the header, then one line per hit."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS + (("body_zh", "body_en") if bodies else ()))
    yield "\ufeff" + buffer.getvalue()
    for hit in hits:
        buffer.seek(0)
        buffer.truncate()
        row = [hit.id, hit.date or "", hit.title.get("zh") or "", hit.title.get("en") or "", hit.source or "", hit.url or "", _speakers(hit), round(hit.score, 4), link + id_path(hit.id)]
        if bodies:
            row += ["".join(hit.snippets.get("zh") or []), "".join(hit.snippets.get("en") or [])]
        writer.writerow([_cell(v) for v in row])
        yield buffer.getvalue()


def jsonl_rows(hits: Iterator[Hit], link: str, bodies: bool) -> Iterator[str]:
    for hit in hits:
        row = {
            "id": hit.id,
            "title": {"zh": hit.title.get("zh"), "en": hit.title.get("en")},
            "date": hit.date,
            "source": hit.source,
            "url": hit.url,
            "score": round(hit.score, 4),
            "speakers": list(hit.speakers),
            "link": link + id_path(hit.id),
        }
        if bodies:
            row["body"] = {lang: "".join(hit.snippets.get(lang) or []) or None for lang in ("zh", "en")}
        yield json.dumps(row, ensure_ascii=False) + "\n"
