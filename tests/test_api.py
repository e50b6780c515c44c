"""The JSON API and HTML page through Flask's test client, over a real on-disk index."""

from __future__ import annotations

import json
import re

import pytest

from tests.webdata import web_app

SEED_ID = "000_1797282344cdefbc"
HIT_KEYS = ["id", "title", "date", "source", "url", "score", "snippets", "speakers", "duplicates"]
RESULT_KEYS = ["query", "interpreted", "total", "total_partial", "total_groups", "collapse", "page", "size", "took_ms", "sort", "filters", "facets", "hits"]


@pytest.fixture(scope="module")
def app(seed_index):
    with web_app(seed_index) as app:
        yield app


def search(client, **params):
    return client.get("/api/search", query_string=params)


def assert_error(response, status, param, code="invalid_parameter"):
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert list(body) == ["error"]
    assert set(body["error"]) == {"code", "message", "param"}
    assert body["error"]["code"] == code
    assert body["error"]["param"] == param
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


# --- /api/search contract ---------------------------------------------------------------


def test_search_returns_the_documented_shape(client):
    response = search(client, q="普京")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert list(body) == RESULT_KEYS
    assert body["query"] == "普京"
    assert body["page"] == 1 and body["size"] == 10
    assert body["total"] == len(body["hits"]) == 2
    assert isinstance(body["took_ms"], (int, float)) and body["took_ms"] >= 0
    assert body["interpreted"]["terms"]["zh"] == ["普京"]
    assert set(body["interpreted"]) >= {"normalized", "terms", "phrases", "excluded", "fields", "warnings"}
    for hit in body["hits"]:
        assert list(hit) == HIT_KEYS
        assert set(hit["title"]) == {"zh", "en"}
        assert set(hit["snippets"]) == {"zh", "en"}
        assert isinstance(hit["score"], (int, float))
        assert all(isinstance(s, str) for lang in ("zh", "en") for s in hit["snippets"][lang])
    assert {h["id"] for h in body["hits"]} == {SEED_ID, "zh-simplified-1"}


def test_search_hit_carries_titles_date_source_and_marked_snippets(client):
    body = search(client, q="習近平").get_json()
    hit = body["hits"][0]
    assert hit["id"] == SEED_ID
    assert hit["title"]["zh"] == "習近平同俄羅斯總統普京舉行會晤"
    assert hit["title"]["en"].startswith("Xi says China, Russia")
    assert hit["date"] == "2024-10-23T08:59:26+08:00"
    assert hit["source"] == "新華網"
    assert hit["url"] is None
    assert any("<mark>習近平</mark>" in s for s in hit["snippets"]["zh"])


def test_hits_are_ordered_by_score(client):
    hits = search(client, q="Xi farmers").get_json()["hits"]
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert hits[0]["id"] == "xi-only-1"


def test_no_match_is_an_empty_page_not_an_error(client):
    body = search(client, q="zzzqqqnothing").get_json()
    assert body["total"] == 0 and body["hits"] == []


def test_query_warnings_are_reported(client):
    body = search(client, q='"unbalanced').get_json()
    assert any("unbalanced quote" in w for w in body["interpreted"]["warnings"])


def test_deeply_nested_query_is_answered_not_a_server_error(client):
    response = search(client, q="(" * 900 + "普京" + ")" * 900)
    assert response.status_code == 200
    assert response.get_json()["total"] >= 1


# --- paging -------------------------------------------------------------------------------


def test_paging_walks_through_results(client):
    first = search(client, q="普京", size=1, page=1).get_json()
    second = search(client, q="普京", size=1, page=2).get_json()
    third = search(client, q="普京", size=1, page=3).get_json()
    assert first["total"] == second["total"] == third["total"] == 2
    assert len(first["hits"]) == len(second["hits"]) == 1
    assert first["hits"][0]["id"] != second["hits"][0]["id"]
    assert second["page"] == 2 and second["size"] == 1
    assert third["hits"] == []
    both = search(client, q="普京", size=2).get_json()
    assert [h["id"] for h in both["hits"]] == [first["hits"][0]["id"], second["hits"][0]["id"]]


def test_size_and_page_accept_boundaries(client):
    assert search(client, q="普京", size=1).status_code == 200
    assert search(client, q="普京", size=100).status_code == 200
    assert search(client, q="普京", size=" 5 ").get_json()["size"] == 5


# --- bad parameters ------------------------------------------------------------------------


def test_missing_q_is_400(client):
    error = assert_error(client.get("/api/search"), 400, "q")
    assert "q" in error["message"]


@pytest.mark.parametrize("q", ["", "   ", "\t"])
def test_empty_q_is_400(client, q):
    assert_error(search(client, q=q), 400, "q")


@pytest.mark.parametrize("size", ["0", "101", "abc", "-1", "1.5", "", "9999999999"])
def test_bad_size_is_400(client, size):
    error = assert_error(search(client, q="普京", size=size), 400, "size")
    assert "size" in error["message"]


@pytest.mark.parametrize("page", ["0", "-1", "abc", "", "2.0"])
def test_bad_page_is_400(client, page):
    error = assert_error(search(client, q="普京", page=page), 400, "page")
    assert "page" in error["message"]


def test_pages_past_the_10000th_hit_are_empty(client):
    # Every page the schema allows is answered (page <= 10,000, size <= 100); hits past rank
    # 10,000 are never computed.
    body = search(client, q="普京", page=1001, size=10).get_json()
    assert body["hits"] == [] and body["total"] == search(client, q="普京").get_json()["total"]


@pytest.mark.parametrize("name", ["limit", "Q", "callback"])
def test_unknown_parameter_is_400_naming_it(client, name):
    error = assert_error(search(client, q="普京", **{name: "1"}), 400, name)
    assert repr(name) in error["message"]
    assert "q, size, page" in error["message"]


def test_wrong_method_is_a_json_error(client):
    response = client.post("/api/search", query_string={"q": "普京"})
    assert_error(response, 405, None, code="method_not_allowed")


# --- encoding ----------------------------------------------------------------------------------


def test_json_is_utf8_with_real_characters(client):
    response = search(client, q="習近平")
    assert response.headers["Content-Type"].startswith("application/json")
    raw = response.get_data()
    text = raw.decode("utf-8")
    assert "習近平同俄羅斯總統普京舉行會晤" in text
    assert "\\u" not in text
    assert json.loads(text) == response.get_json()


def test_error_json_is_utf8_too(client):
    response = client.get("/api/articles/不存在的文章")
    text = response.get_data().decode("utf-8")
    assert "不存在的文章" in text and "\\u" not in text


# --- /api/articles -----------------------------------------------------------------------------


def test_article_by_id(client):
    response = client.get(f"/api/articles/{SEED_ID}")
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["id", "title", "body", "date", "source", "url", "dateline", "captions", "speakers"]
    assert body["id"] == SEED_ID
    assert body["title"]["zh"] == "習近平同俄羅斯總統普京舉行會晤"
    assert "喀山克里姆林宮" in body["body"]["zh"]
    assert "Vladimir Putin" in body["body"]["en"]
    assert body["date"] == "2024-10-23T08:59:26+08:00"


def test_jsonl_article_by_id(client):
    body = client.get("/api/articles/zh-simplified-1").get_json()
    assert body["title"] == {"zh": "普京会见外国领导人", "en": None}
    assert body["source"] == "测试"
    assert body["date"] == "2023-05-01T10:00:00+08:00"


def test_unknown_article_is_404_in_the_error_shape(client):
    error = assert_error(client.get("/api/articles/no-such-article"), 404, "id", code="not_found")
    assert "no-such-article" in error["message"]


# --- other routes and headers ---------------------------------------------------------------------


def test_healthz_reports_the_article_count(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "articles": 4}


def test_unknown_api_path_is_a_json_404(client):
    assert_error(client.get("/api/nothing-here"), 404, None, code="not_found")


@pytest.mark.parametrize("path", ["/api/search?q=x", "/", "/healthz", "/api/articles/nope", "/api/nothing"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    csp = response.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert response.headers.get("X-Content-Type-Options") == "nosniff"


# --- HTML page -------------------------------------------------------------------------------------


def test_html_page_shows_results_for_xi(client):
    response = client.get("/", query_string={"q": "習近平"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "習近平同俄羅斯總統普京舉行會晤" in html
    assert "<mark>習近平</mark>" in html
    assert re.search(r">\d+ results?<", html)
    assert 'value="習近平"' in html


def test_html_page_without_query_is_the_empty_form(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<form method="get" action="/"' in html
    assert 'class="hits"' not in html


@pytest.mark.parametrize(
    "q",
    ["<script>alert(1)</script>", '"><script>alert(1)</script>', "<img src=x onerror=alert(1)>", "' onfocus='alert(1)"],
)
def test_html_page_escapes_the_query(client, q):
    response = client.get("/", query_string={"q": q})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert q not in html
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html or "&lt;img" in html or "&#39; onfocus=&#39;" in html


def test_html_page_reports_a_bad_parameter_as_400(client):
    response = client.get("/", query_string={"q": "普京", "size": "0"})
    assert response.status_code == 400
    assert "size must be between 1 and 100" in response.get_data(as_text=True)


def test_html_page_links_to_the_next_page(client):
    html = client.get("/", query_string={"q": "普京", "size": "1"}).get_data(as_text=True)
    assert 'rel="next"' in html
    assert 'rel="prev"' not in html


# --- missing index ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/search?q=%E6%99%AE%E4%BA%AC", "/healthz", "/api/articles/x"])
def test_missing_index_is_503_index_missing(tmp_path, path):
    with web_app(tmp_path / "no-index-here") as app:
        response = app.test_client().get(path)
        error = assert_error(response, 503, "index", code="index_missing")
        assert "no index at" in error["message"]
        assert "python -m search index" in error["message"]


def test_index_built_after_start_up_is_picked_up(tmp_path):
    from search.indexer import Indexer

    index_dir = tmp_path / "late"
    with web_app(index_dir) as app:
        client = app.test_client()
        assert client.get("/healthz").status_code == 503
        data = tmp_path / "data"
        data.mkdir()
        (data / "a.jsonl").write_text(json.dumps({"id": "late-1", "body": "Putin arrived late."}) + "\n", "utf-8")
        Indexer(str(index_dir)).run([str(data)])
        assert client.get("/healthz").get_json() == {"status": "ok", "articles": 1}
        assert [h["id"] for h in search(client, q="Putin").get_json()["hits"]] == ["late-1"]



# --- a running app and a changing index ----------------------------------------------------------


def write_jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")


def test_running_app_sees_articles_added_by_a_later_index_run(tmp_path):
    from search.indexer import Indexer

    data, index_dir = tmp_path / "data", str(tmp_path / "ix")
    data.mkdir()
    write_jsonl(data / "a.jsonl", [{"id": "a1", "body": "Putin spoke."}])
    Indexer(index_dir).run([str(data)])
    with web_app(index_dir) as app:
        client = app.test_client()
        assert search(client, q="Putin").get_json()["total"] == 1
        write_jsonl(data / "b.jsonl", [{"id": "b1", "body": "Putin spoke again."}])
        Indexer(index_dir).run([str(data)])
        body = search(client, q="Putin").get_json()
        assert sorted(h["id"] for h in body["hits"]) == ["a1", "b1"]
        assert client.get("/healthz").get_json()["articles"] == 2


def test_running_app_forgets_the_old_text_of_an_edited_article(tmp_path):
    from search.indexer import Indexer

    data, index_dir = tmp_path / "data", str(tmp_path / "ix")
    data.mkdir()
    write_jsonl(data / "a.jsonl", [{"id": "a1", "body": "Putin spoke."}])
    write_jsonl(data / "b.jsonl", [{"id": "b1", "body": "Putin spoke again."}])
    Indexer(index_dir).run([str(data)])
    with web_app(index_dir) as app:
        client = app.test_client()
        assert search(client, q="Putin").get_json()["total"] == 2
        write_jsonl(data / "b.jsonl", [{"id": "b1", "body": "Xi spoke instead."}])
        assert Indexer(index_dir).run([str(data)]).updated == 1
        assert [h["id"] for h in search(client, q="Xi").get_json()["hits"]] == ["b1"]
        assert [h["id"] for h in search(client, q="Putin").get_json()["hits"]] == ["a1"]
        assert client.get("/healthz").get_json()["articles"] == 2


@pytest.fixture(scope="module")
def partial_match_index(tmp_path_factory):
    """Many articles matching one word of a two-word query, some matching both."""
    from search.indexer import Indexer

    data = tmp_path_factory.mktemp("partial-data")
    rows = [{"id": f"x{i:02d}", "body": ("Xi farmers harvest " if i % 3 == 0 else "Xi spoke ") + f"story {i}"} for i in range(25)]
    rows += [{"id": f"f{i}", "body": f"farmers only {i}"} for i in range(7)]
    write_jsonl(data / "a.jsonl", rows)
    index_dir = str(tmp_path_factory.mktemp("partial-ix"))
    Indexer(index_dir).run([str(data)])
    return index_dir


def test_all_words_rank_before_some_words_over_the_api(partial_match_index):
    with web_app(partial_match_index) as app:
        body = search(app.test_client(), q="Xi farmers", size=100).get_json()
    ids = [h["id"] for h in body["hits"]]
    assert body["total"] + body["total_partial"] == len(ids) == 32
    assert body["total"] == 9 and body["interpreted"]["dropped"] == []  # the total counts the articles holding both
    both = {f"x{i:02d}" for i in range(0, 25, 3)}
    assert set(ids[: len(both)]) == both


def test_paging_a_multiword_query_shows_every_article_once(partial_match_index):
    with web_app(partial_match_index) as app:
        client = app.test_client()
        everything = [h["id"] for h in search(client, q="Xi farmers", size=100).get_json()["hits"]]
        paged = []
        for page in range(1, 10):
            paged += [h["id"] for h in search(client, q="Xi farmers", size=4, page=page).get_json()["hits"]]
    assert len(paged) == len(set(paged)) == 32
    assert paged == everything


def test_the_page_counts_all_words_and_some_words_apart(partial_match_index):
    with web_app(partial_match_index) as app:
        client = app.test_client()
        both = client.get("/", query_string={"q": "Xi farmers"}).get_data(as_text=True)
        missing = client.get("/", query_string={"q": "farmers zzzunknown"}).get_data(as_text=True)
        body = search(client, q="farmers zzzunknown").get_json()
    assert "9 articles contain all words · 23 more contain some" in both
    assert body["total"] == 16 and body["total_partial"] == 0 and body["interpreted"]["dropped"] == ["zzzunknown"]
    assert "16 articles contain the other words" in missing
    assert "No article contains all the words: showing articles without" in missing and "zzzunknown" in missing
