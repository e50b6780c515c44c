"""``/api/export``: every match of a search as CSV or JSON Lines, streamed, with the filters."""

from __future__ import annotations

import csv
import gc
import io
import json
import random
from html import unescape as html_unescape

import pytest

from search.indexer import Indexer
from tests.dailydata import build_daily_index
from tests.reldata import synthetic
from tests.webdata import web_app
from web import export
from web.views import id_path


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with web_app(build_daily_index(tmp_path_factory.mktemp("export"))) as app:
        yield app


def _csv(response) -> list[dict]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # spreadsheets then read the Chinese as UTF-8
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_csv_has_every_match_in_page_order(client):
    search = client.get("/api/search", query_string={"q": "金砖国家", "size": 100}).get_json()
    response = client.get("/api/export", query_string={"q": "金砖国家"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["X-Total-Count"] == str(search["total"] + search["total_partial"])  # partial matches too
    rows = _csv(response)
    assert [r["id"] for r in rows] == [h["id"] for h in search["hits"]]
    assert rows[0]["link"] == f"http://localhost/articles/{rows[0]['id']}"
    assert rows[0]["title_zh"].startswith("金砖国家峰会")


def test_jsonl_with_filters_sort_limit_and_bodies(client):
    args = {"q": "*", "speaker": "王毅", "from": "2024-10-05", "sort": "date", "format": "jsonl", "body": "true"}
    response = client.get("/api/export", query_string=args)
    assert response.mimetype == "application/jsonl"
    rows = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert rows and all(any(sp["id"] == "wang-yi" for sp in r["speakers"]) for r in rows)
    assert [r["date"] for r in rows] == sorted((r["date"] for r in rows), reverse=True)
    assert all(r["date"] >= "2024-10-05" for r in rows)
    assert rows[0]["body"]["zh"].startswith("金砖国家领导人")
    limited = client.get("/api/export", query_string={**args, "limit": 2})
    assert len(limited.get_data(as_text=True).splitlines()) == 2
    assert limited.headers["X-Export-Count"] == "2" and int(limited.headers["X-Total-Count"]) == len(rows)


def test_csv_cells_never_start_a_formula(client, tmp_path):
    from web.export import _cell

    assert _cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert _cell("@SUM(A1)") == "'@SUM(A1)" and _cell("plain") == "plain" and _cell(1.5) == 1.5


@pytest.mark.parametrize(
    "query, param",
    [("format=xml", "format"), ("limit=0", "limit"), ("limit=50001", "limit"), ("body=maybe", "body"), ("lang=fr", "lang"), ("page=2", "page")],
)
def test_export_refuses_bad_parameters(client, query, param):
    response = client.get("/api/export?q=x&" + query)
    assert response.status_code == 400
    assert response.get_json()["error"]["param"] == param


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    """The app over 400 generated articles."""
    folder = tmp_path_factory.mktemp("export-many")
    rng = random.Random(17)
    data = folder / "articles.jsonl"
    data.write_text("".join(json.dumps(synthetic(i, rng), ensure_ascii=False) + "\n" for i in range(400)), "utf-8")
    Indexer(str(folder / "index"), procs=1).run([str(data)])
    with web_app(folder / "index") as app:
        yield app.test_client()


def _objects_halfway(client, args: dict) -> tuple[int, int]:
    """Rows exported, and how many more objects the garbage collector tracks halfway through them
    than before the request (the response streamed as the server streams it)."""
    gc.collect()
    before = len(gc.get_objects())
    response = client.get("/api/export", query_string=args, buffered=False)
    rows = int(response.headers["X-Export-Count"])
    halfway = None
    lines = 0
    for chunk in response.iter_encoded():  # rows without bodies: a line each (and the CSV header)
        lines += chunk.count(b"\n")
        if halfway is None and lines >= rows // 2:
            halfway = len(gc.get_objects())
    response.close()
    assert lines == rows + (args["format"] == "csv")  # the header says how many rows come
    return rows, halfway - before


@pytest.mark.parametrize("fmt, collapse", [("csv", "true"), ("jsonl", "false")])
def test_an_export_holds_no_object_per_row(many, fmt, collapse, monkeypatch):
    # Constant memory: the ranking is held as arrays and each hit is built, written and dropped;
    # a list of hits (or of rows) kept alive would add an object or more per row written.
    monkeypatch.setattr(export, "CHUNK_CHARS", 1000)  # a few rows a chunk: both counted mid-stream
    args = {"q": "*", "format": fmt, "collapse": collapse}
    _objects_halfway(many, {**args, "limit": 300})  # the first export loads what every export uses
    few_rows, few = _objects_halfway(many, {**args, "limit": 60})
    many_rows, more = _objects_halfway(many, {**args, "limit": 300})
    assert many_rows - few_rows >= 200
    assert more - few < 40, (few, more)


ODD_IDS = ["a/b c", "x?y#z&w=1", "50%", "習近平/新闻 2"]


@pytest.fixture(scope="module")
def odd(tmp_path_factory):
    """The app over articles whose ids hold what a URL path must quote."""
    folder = tmp_path_factory.mktemp("export-odd")
    records = [{"id": aid, "title": f"Harvest report {n}", "body": "Farmers expect a record harvest this year.", "date": f"2024-10-0{n + 1}T08:00:00", "source": "Test"} for n, aid in enumerate(ODD_IDS)]
    (folder / "articles.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    Indexer(str(folder / "index"), procs=1).run([str(folder / "articles.jsonl")])
    with web_app(folder / "index") as app:
        yield app.test_client()


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_links_quote_the_ids_and_open_their_articles(odd, fmt):
    response = odd.get("/api/export", query_string={"q": "harvest", "format": fmt})
    text = response.get_data(as_text=True)
    rows = _csv(response) if fmt == "csv" else [json.loads(line) for line in text.splitlines()]
    assert sorted(r["id"] for r in rows) == sorted(ODD_IDS)
    for row in rows:
        link = row["link"]
        assert link.startswith("http://localhost/articles/") and not any(c in link for c in " ?#") and "%" in link, link
        page = odd.get(link.removeprefix("http://localhost"))
        assert page.status_code == 200 and f'<dd class="article-id">{row["id"]}</dd>' in html_unescape(page.get_data(as_text=True)), link


def test_feed_links_open_their_articles(odd):
    import feedparser

    feed = feedparser.parse(odd.get("/feed.atom", query_string={"q": "harvest"}).get_data())
    assert sorted(e.id for e in feed.entries) == sorted(f"http://localhost/articles/{id_path(aid)}" for aid in ODD_IDS)
    for entry in feed.entries:
        assert odd.get(entry.link.removeprefix("http://localhost")).status_code == 200, entry.link
