"""The API and CLI contract on both storage backends: the same answers from Whoosh and OpenSearch.

Each backend holds the web test articles (seed page, 普京 series, speakers, captions); the
OpenSearch ones run on a real node (the ``opensearch_url`` fixture). A second corpus of
shared news articles checks that boolean and phrase queries match the same articles
(the same ``total``) on both.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import subprocess
import sys

import pytest

from search.backends.base import BackendConfig
from search.indexer import Indexer, content_hash
from search.searcher import Engine
from tests.conftest import SHARED, SEED
from tests.webdata import OTHERS, SEED_ID, SERIES, SPEAKER_ARTICLES, web_app

BACKENDS = ("whoosh", "opensearch")
_names = itertools.count()


def fresh_config(backend: str, request, folder) -> BackendConfig:
    """An empty index on ``backend`` (a new folder, or a new index name on the test node)."""
    if backend == "whoosh":
        return BackendConfig(index_dir=str(folder / "index"))
    url = request.getfixturevalue("opensearch_url")
    name = f"test-{os.getpid()}-{next(_names)}"
    config = BackendConfig(backend="opensearch", urls=(url,), index_name=name)
    request.addfinalizer(lambda: _drop(config))
    return config


def _drop(config: BackendConfig) -> None:
    from opensearchpy import OpenSearch

    client = OpenSearch(hosts=list(config.urls))
    client.indices.delete(index=config.index_name, ignore=[404])
    client.close()


def build_web_articles(config: BackendConfig, folder) -> None:
    data = folder / "data"
    data.mkdir()
    (data / SEED.name).write_bytes(SEED.read_bytes())
    (data / "web.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in SERIES + OTHERS), "utf-8")
    indexer = Indexer(config=config)
    report = indexer.run([str(data)])
    assert report.failed == 0, report.failures
    # Speakers and captions come from articles the JSONL reader does not make: written directly.
    with indexer.backend.writer(procs=1, batch_size=100) as writer:
        assert writer.write([(a, content_hash(a), False) for a in SPEAKER_ARTICLES]) == []
    indexer.backend.close()


@pytest.fixture(scope="module", params=BACKENDS)
def config(request, tmp_path_factory) -> BackendConfig:
    folder = tmp_path_factory.mktemp(f"contract-{request.param}")
    config = fresh_config(request.param, request, folder)
    build_web_articles(config, folder)
    return config


@pytest.fixture(scope="module")
def client(config):
    with web_app(config.index_dir, BACKEND=config) as app:
        yield app.test_client()


def search(client, **params) -> dict:
    response = client.get("/api/search", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ids(body: dict) -> set[str]:
    return {hit["id"] for hit in body["hits"]}


# --- search, phrases, NOT, highlights ------------------------------------------------------------


def test_a_word_in_either_script_is_found_and_marked_as_published(client):
    for query in ("習近平", "习近平"):
        body = search(client, q=query)
        assert SEED_ID in ids(body)
        seed = next(hit for hit in body["hits"] if hit["id"] == SEED_ID)
        assert "<mark>習近平</mark>" in " ".join(seed["snippets"]["zh"])  # the original (traditional) script


def test_a_phrase_matches_consecutive_words_only(client):
    body = search(client, q='"一带一路"')
    assert ids(body) == {SEED_ID}
    assert "<mark>一帶一路</mark>" in " ".join(body["hits"][0]["snippets"]["zh"])
    assert body["interpreted"]["phrases"] == [["一带", "一路"]]
    assert search(client, q='"一路 一带"')["total"] == 0  # the same words in the other order


def test_not_removes_the_articles_with_the_word(client):
    everything, excluded = search(client, q="普京", size=100), search(client, q="合作", size=100)
    body = search(client, q="普京 -合作", size=100)
    assert body["interpreted"]["excluded"] == ["合作"]
    assert ids(body) == ids(everything) - ids(excluded) and body["total"] == len(ids(body))


def test_english_stems_and_translations_find_chinese_articles(client):
    assert SEED_ID in ids(search(client, q="Xi Jinping", size=50))
    assert {"speaker-putin-1"} <= ids(search(client, q="cooperating", size=50))


def test_total_counts_articles_with_all_words_and_partial_ones_apart(client):
    one, other = search(client, q="普京", size=100), search(client, q="合作", size=100)
    body = search(client, q="普京 合作", size=100)
    both = ids(one) & ids(other)
    assert body["total"] == len(both) == search(client, q="普京 AND 合作")["total"] > 0
    assert body["total_partial"] == len(ids(one) | ids(other)) - len(both) > 0
    assert {hit["id"] for hit in body["hits"][: len(both)]} == both  # complete matches first
    assert body["interpreted"]["dropped"] == []
    assert sum(year["count"] for year in body["facets"]["years"]) <= len(both)


def test_a_word_no_article_holds_is_dropped_and_named(client):
    body = search(client, q="普京 zzqqxx", size=100)
    assert body["interpreted"]["dropped"] == ["zzqqxx"]
    assert ids(body) == ids(search(client, q="普京", size=100)) and body["total"] == len(ids(body))


def test_part_of_a_chinese_word_finds_the_article_and_marks_exactly_it(client):
    body = search(client, q="近平")
    assert SEED_ID in ids(body)
    seed = next(hit for hit in body["hits"] if hit["id"] == SEED_ID)
    assert "習<mark>近平</mark>" in " ".join(seed["snippets"]["zh"])


# --- paging, sort, filters, facets ---------------------------------------------------------------------


def test_typos_pinyin_and_stopwords_are_read_against_the_index(client):
    # The Whoosh backend finds the corrections in its lexicon, OpenSearch with its term suggester.
    typo = search(client, q="Pution")
    assert typo["interpreted"]["corrections"] == [{"typed": "Pution", "corrected": "Putin"}]
    assert typo["interpreted"]["verbatim_query"] == '"Pution"'
    assert typo["total"] == search(client, q="Putin")["total"] > 0
    assert search(client, q='"Pution"')["total"] == 0
    pinyin = search(client, q="pujing")
    assert pinyin["interpreted"]["pinyin"] == [{"typed": "pujing", "words": ["普京"]}]
    assert pinyin["total"] == search(client, q="普京", translate="false")["total"]
    assert "的 is too common to search on its own; try a phrase" in search(client, q="的")["interpreted"]["warnings"]


def test_pages_split_one_ranking(client):
    whole = search(client, q="普京", size=12)
    first, second = search(client, q="普京", size=6, page=1), search(client, q="普京", size=6, page=2)
    assert first["total"] == second["total"] == whole["total"] > 12
    assert [h["id"] for h in first["hits"] + second["hits"]] == [h["id"] for h in whole["hits"]]
    assert search(client, q="普京", size=10, page=100)["hits"] == []


def test_partial_matches_follow_complete_ones(client):
    body = search(client, q="普京 通电话", size=100)
    assert body["hits"][0]["id"] == "speaker-both-1"  # the only article with both words
    assert body["total"] == 1  # complete matches only; the others are counted apart
    assert body["total"] + body["total_partial"] == len(ids(search(client, q="普京", size=100)) | ids(search(client, q="通电话", size=100)))


def test_date_sort_and_filters(client):
    dated = search(client, q="普京", sort="date", size=100)
    days = [h["date"][:10] for h in dated["hits"] if h["date"]]
    assert days == sorted(days, reverse=True) and dated["hits"][0]["id"] == SEED_ID
    ranged = search(client, q="普京", **{"from": "2022-03-01", "to": "2023-02-01"}, size=100)
    assert ranged["filters"] == {"from": "2022-03-01", "to": "2023-02-01"}
    assert {"speaker-putin-1", "speaker-both-1"} <= ids(ranged)
    assert all("2022-03-01" <= h["date"][:10] <= "2023-02-01" for h in ranged["hits"])
    english = search(client, q="cooperation", lang="en", size=100)
    assert "unsafe-1" in ids(english)
    assert "unsafe-1" not in ids(search(client, q="cooperation", lang="zh", size=100))


def test_speaker_filter_by_any_name(client):
    for name in ("普京", "Putin", "Vladimir Putin"):
        found = ids(search(client, q="*", speaker=name, size=100))
        assert {"speaker-putin-1", "speaker-both-1"} <= found and "speaker-xi-1" not in found, name
        assert found == ids(search(client, q="*", speaker="普京", size=100))
    xi = ids(search(client, q="*", speaker="習近平", size=100))
    assert {"speaker-xi-1", "speaker-both-1"} <= xi and "speaker-putin-1" not in xi
    assert search(client, q="*", speaker="Nobody Atall")["total"] == 0


def test_facets_count_the_whole_result_set(client):
    body = search(client, q="普京", size=1)
    assert sum(y["count"] for y in body["facets"]["years"]) == body["total"]
    assert {"year": 2022, "count": 2} in body["facets"]["years"]
    speakers = {s["id"]: s for s in body["facets"]["speakers"]}
    assert speakers["vladimir-putin"]["names"] == {"zh": "普京", "en": "Vladimir Putin"}
    assert speakers["vladimir-putin"]["count"] == search(client, q="普京", speaker="普京")["total"] >= 2


def test_timeline_facets_count_months_and_days(client):
    body = search(client, q="普京", size=1)
    assert sum(m["count"] for m in body["facets"]["months"]) == body["total"] - 0  # every 普京 article is dated
    assert {"month": "2022-03", "count": 2} in body["facets"]["months"]
    short = search(client, q="普京", **{"from": "2022-03-01", "to": "2022-03-31"})["facets"]
    assert short["days"] == [{"day": "2022-03-01", "count": 1}, {"day": "2022-03-23", "count": 1}]


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_timeline_shows_days_when_the_matches_span_at_most_62_days(backend, request, tmp_path):
    """Months always; days when the first and last dated match are at most DAYS_SPAN days apart,
    even across three month boundaries, whatever the filters (OpenSearch asks the days apart)."""
    dates = {"span-a": "2023-01-31", "span-b": "2023-02-14", "span-c": "2023-04-02",  # 61 days
             "wide-a": "2023-01-01", "wide-b": "2023-03-31", "none-a": None}  # 89 days; undated
    words = {"span": "蓝鲸", "wide": "企鹅", "none": "海豹"}
    records = [{"id": key, "title": f"{words[key.split('-')[0]]}的消息", "body": f"{words[key.split('-')[0]]}出现在这篇文章里。",
                "source": "Test", **({"date": f"{day}T08:00:00+00:00"} if day else {})} for key, day in dates.items()]
    data = tmp_path / "data"
    data.mkdir()
    (data / "dates.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    config = fresh_config(backend, request, tmp_path)
    assert Indexer(config=config).run([str(data)]).failed == 0
    with web_app(config.index_dir, BACKEND=config) as app:
        client = app.test_client()
        span = search(client, q="蓝鲸")["facets"]
        assert span["months"] == [{"month": "2023-01", "count": 1}, {"month": "2023-02", "count": 1}, {"month": "2023-04", "count": 1}]
        assert span["days"] == [{"day": "2023-01-31", "count": 1}, {"day": "2023-02-14", "count": 1}, {"day": "2023-04-02", "count": 1}]
        wide = search(client, q="企鹅")["facets"]
        assert wide["months"] == [{"month": "2023-01", "count": 1}, {"month": "2023-03", "count": 1}] and wide["days"] == []
        assert search(client, q="海豹")["facets"]["days"] == []  # undated only
        uncollapsed = search(client, q="蓝鲸", collapse="false")["facets"]
        assert uncollapsed["days"] == span["days"] and uncollapsed["years"] == [{"year": 2023, "count": 3}]
        nothing = search(client, q="蓝鲸", **{"from": "2024-01-01"})
        assert nothing["total"] == 0 and nothing["facets"].get("days", []) == [], nothing["facets"]


def test_suggestions_and_exports(client):
    found = client.get("/api/suggest", query_string={"q": "普"}).get_json()["suggestions"]
    assert any(s.get("id") == "vladimir-putin" for s in found)
    export = client.get("/api/export", query_string={"q": "普京", "format": "jsonl", "body": "true"})
    assert export.status_code == 200
    rows = [json.loads(line) for line in export.get_data(as_text=True).splitlines() if line.strip()]
    assert len(rows) == search(client, q="普京")["total"] and any("普京" in json.dumps(r, ensure_ascii=False) for r in rows)


def test_all_matches_come_in_page_order(config, monkeypatch):
    from search.backends.opensearch import backend
    from search.searcher import Engine

    monkeypatch.setattr(backend, "PAGE_CHUNK", 7)  # an OpenSearch export reads its hits in chunks
    engine = Engine(config=config)
    try:
        total, rows, hits = engine.matches("普京 通电话", limit=100)
        paged = engine.search("普京 通电话", size=100, highlight=False, facets=False)
        assert total == paged.total + paged.total_partial > 7 and [h.id for h in hits] == [h.id for h in paged.hits]
        assert rows == min(100, total)
        assert [h.id for h in engine.matches("普京 通电话", limit=9).hits] == [h.id for h in paged.hits[:9]]
    finally:
        engine.close()


# --- articles, speakers, stats, errors ---------------------------------------------------------------


def test_article_has_its_stored_text(client):
    article = client.get("/api/articles/speaker-putin-1").get_json()
    assert article["captions"]["zh"] == "普京在克里姆林宫讲话。"
    assert article["dateline"] == "新華社莫斯科3月1日電"
    assert [s["id"] for s in article["speakers"]] == ["vladimir-putin"]
    missing = client.get("/api/articles/no-such-article")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"


def test_collapse_and_similar_on_both_backends(client, config):
    """Both group near-duplicates (tests/test_opensearch_groups.py compares the groups)."""
    every = search(client, q="普京", size=100, collapse="false")
    collapsed = search(client, q="普京", size=100)
    assert "duplicates" not in every["hits"][0] and collapsed["collapse"] is True
    assert collapsed["total"] == every["total"] and collapsed["total_groups"] == len(collapsed["hits"])
    shown = {hit["id"] for hit in collapsed["hits"]} | {i for hit in collapsed["hits"] for i in hit["duplicates"]["ids"]}
    assert shown == ids(every)
    similar = client.get("/api/articles/speaker-putin-1/similar")
    assert similar.status_code == 200 and similar.get_json()["id"] == "speaker-putin-1"
    assert client.get("/api/articles/no-such-article/similar").status_code == 404
    assert client.get("/articles/speaker-putin-1").status_code == 200  # the article page lists versions and related


def test_speaker_directory(client):
    found = client.get("/api/speakers", query_string={"prefix": "普"}).get_json()["speakers"]
    assert found[0]["id"] == "vladimir-putin" and found[0]["names"] == {"zh": "普京", "en": "Vladimir Putin"}
    assert found[0]["count"] == search(client, q="*", speaker="普京")["total"]
    assert [s["id"] for s in client.get("/api/speakers", query_string={"prefix": "xi"}).get_json()["speakers"]] == ["xi-jinping"]


def _speakers_engine(request, tmp_path, monkeypatch):
    """An Engine over the first speaker article on OpenSearch, the cluster asked for the index's
    state at each search, and ``write(articles)`` adding more."""
    from search.backends.base import open_backend
    from search.backends.opensearch import backend as os_backend
    from search.searcher import Engine

    monkeypatch.setattr(os_backend, "DIRECTORY_TTL", 0.0)
    config = fresh_config("opensearch", request, tmp_path)

    def write(articles) -> None:
        store = open_backend(config, create=True)
        with store.writer(procs=1, batch_size=10) as writer:
            assert writer.write([(a, content_hash(a), False) for a in articles]) == []
        store.close()

    write(SPEAKER_ARTICLES[:1])
    return Engine(config=config), write


def test_what_opensearch_searches_reuse_follows_the_index_and_is_not_read_again_while_it_is_unchanged(request, tmp_path, monkeypatch):
    """The speaker directory and the term statistics are kept while the index is unchanged."""
    engine, write = _speakers_engine(request, tmp_path, monkeypatch)
    store = engine.backend
    try:
        first = store.speaker_directory()
        assert first == {"vladimir-putin": {"names": {"zh": "普京", "en": "Vladimir Putin"}, "count": 1}}
        assert engine.search("普京").total == 1
        asked = {"search": [], "msearch": [], "termvectors": [], "count": []}
        for name, calls in asked.items():
            sent = getattr(store.client, name)
            monkeypatch.setattr(store.client, name, lambda *a, _sent=sent, _calls=calls, **k: _calls.append(k) or _sent(*a, **k))
        assert store.speaker_directory() is first and asked["search"] == []  # unchanged index: nothing read again
        from search import searcher

        passes = []
        monkeypatch.setattr(searcher, "plan", lambda *a, _plan=searcher.plan, **k: passes.append(a[1]) or _plan(*a, **k))
        # The search only (statistics known): the page of stories, then the listed story's versions,
        # planned once (a new term would be planned, asked for and planned again).
        assert engine.search("普京").total == 1 and len(asked["msearch"]) == 2
        assert passes == ["普京"] and asked["termvectors"] == asked["count"] == []
        write(SPEAKER_ARTICLES[1:])
        assert store.speaker_directory() == {
            "vladimir-putin": {"names": {"zh": "普京", "en": "Vladimir Putin"}, "count": 2},
            "xi-jinping": {"names": {"zh": "习近平", "en": "Xi Jinping"}, "count": 2},
        }
        assert len(asked["search"]) == 2  # the counts, and the names of the one new speaker
        # The statistics read again (the count and one term-vector request), then the search.
        assert engine.search("普京").total == 2 and len(asked["msearch"]) == 4
        assert len(asked["termvectors"]) == 1 and len(asked["count"]) == 1
        assert passes == ["普京"] * 3  # planned, statistics read, planned again
    finally:
        engine.close()


def test_a_pinned_server_process_reads_what_it_builds_from_the_whole_index_again_in_the_background(request, tmp_path, monkeypatch):
    """A server's worker keeps answering with the directory, suggestions and pinyin table it has
    while the new ones are read (the pinyin table took 4 s on the 4x corpus, paid by a search)."""
    from search.backends.opensearch import backend as os_backend

    monkeypatch.setattr(os_backend, "SUGGESTIONS_TTL", 0.0)  # a long-running server's 300 s, past
    engine, write = _speakers_engine(request, tmp_path, monkeypatch)
    store = engine.backend
    try:
        engine.pin()
        before, suggestions = store.speaker_directory(), store.suggestions()
        table = engine.backend.view().pinyin_table()
        assert set(before) == {"vladimir-putin"} and "guests" not in suggestions.counts
        write(SPEAKER_ARTICLES[1:])
        # The search goes on with what it has ...
        assert store.speaker_directory() is before and store.suggestions() is suggestions
        assert engine.backend.view().pinyin_table() is table
        for key in ("directory", "suggestions", ("memo", "pinyin")):
            store._reading[key].join(30)  # ... while the new ones are read
        after = store.speaker_directory()
        assert after["xi-jinping"]["names"]["en"] == "Xi Jinping" and after["vladimir-putin"]["count"] == 2
        assert "guests" in store.suggestions().counts  # from a new title (Xi meets foreign guests)
        assert engine.backend.view().pinyin_table() is not table
        assert engine.search("习近平").total == 2
    finally:
        engine.close()


def test_a_reordered_chinese_query_reads_its_statistics_from_opensearch_in_one_request(request, tmp_path, monkeypatch):
    """The re-ordering's pair frequencies (search.rerank) come with the planner's statistics, and the
    order is Whoosh's."""
    from search import rerank
    from search.backends.base import open_backend
    from search.query.parse import parse
    from search.searcher import Engine

    query = "俄方 加强合作"  # its pair across the two words (方加) is no word's: the planner alone would not ask it
    assert rerank.typed_stretches(parse(query).node)  # a query the re-ordering reads
    found = {}
    for backend in BACKENDS:
        config = fresh_config(backend, request, tmp_path / backend)
        store = open_backend(config, create=True)
        with store.writer(procs=1, batch_size=10) as writer:
            assert writer.write([(a, content_hash(a), False) for a in SPEAKER_ARTICLES]) == []
        store.close()
        engine = Engine(config=config)
        try:
            if backend == "opensearch":
                asked = []
                sent = engine.backend.client.termvectors
                monkeypatch.setattr(engine.backend.client, "termvectors", lambda *a, **k: asked.append(k) or sent(*a, **k))
            result = engine.search(query)
            found[backend] = [hit.id for hit in result.hits]
        finally:
            engine.close()
    assert found["opensearch"] == found["whoosh"] and found["whoosh"][0] == "speaker-putin-1"
    assert len(asked) == 1  # one shard: one request, the pairs with the words


def test_stats_and_health(client):
    stats = client.get("/api/stats").get_json()
    total = 1 + len(SERIES) + len(OTHERS) + len(SPEAKER_ARTICLES)
    assert stats["articles"] == client.get("/healthz").get_json()["articles"] == total
    assert stats["languages"] == {"zh": total - 2, "en": total}
    assert stats["undated"] == 1 and {"year": 2022, "count": 3} in stats["years"]
    assert stats["index_bytes"] > 0


def test_bad_parameters_are_400_naming_them(client):
    response = client.get("/api/search", query_string={"q": "普京", "lang": "fr"})
    assert response.status_code == 400 and response.get_json()["error"]["param"] == "lang"


# --- the command line ----------------------------------------------------------------------------


def backend_args(config: BackendConfig) -> list[str]:
    if config.backend == "whoosh":
        return ["--backend", "whoosh", "--index", config.index_dir]
    return ["--backend", "opensearch", "--opensearch", ",".join(config.urls), "--opensearch-index", config.index_name]


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "search", *args], capture_output=True, text=True, encoding="utf-8", timeout=180, env={**os.environ, **(env or {})}
    )


def test_cli_query_prints_what_the_api_answers(config, client):
    done = run_cli("query", '"一带一路" 習近平', "--json", *backend_args(config))
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    api = search(client, q='"一带一路" 習近平')
    assert printed["total"] == api["total"] and printed["hits"][0]["id"] == api["hits"][0]["id"] == SEED_ID
    assert [h["id"] for h in printed["hits"]] == [h["id"] for h in api["hits"]]


def test_cli_index_is_incremental_and_prunes(request, tmp_path, config):
    fresh = fresh_config(config.backend, request, tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    rows = [{"id": f"p{i}", "title": f"Test {i}", "body": f"Putin talks number {i}."} for i in range(3)]
    (data / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    first = run_cli("index", str(data), "--quiet", *backend_args(fresh))
    assert first.returncode == 0 and first.stdout.strip() == "indexed 3 / updated 0 / unchanged 0 / failed 0", first.stderr
    rows[0]["body"] += " Changed."
    (data / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:2]), "utf-8")
    again = run_cli("index", str(data), "--quiet", "--prune", *backend_args(fresh))
    assert again.stdout.strip() == "indexed 0 / updated 1 / unchanged 1 / failed 0 / deleted 1", again.stderr
    done = run_cli("query", "putin", "--json", *backend_args(fresh))
    assert {h["id"] for h in json.loads(done.stdout)["hits"]} == {"p0", "p1"}


def _segments(config: BackendConfig) -> int:
    from opensearchpy import OpenSearch

    client = OpenSearch(hosts=list(config.urls))
    try:
        return len(client.cat.segments(index=config.index_name, format="json"))
    finally:
        client.close()


def test_a_large_opensearch_run_ends_with_one_segment_per_shard(request, tmp_path, monkeypatch):
    """A run that stores a fifth of the index or more merges it (a first build); a small
    update, --no-merge, or a merge that fails (a warning, the articles kept) does not."""
    from search.backends.opensearch import backend as os_backend

    monkeypatch.setattr(os_backend, "MERGE_MIN", 30)
    config = dataclasses.replace(fresh_config("opensearch", request, tmp_path), shards=2)
    data = tmp_path / "data"
    data.mkdir()

    def articles(first: int, count: int) -> None:
        rows = [{"id": f"m{i}", "title": f"Merge test {i}", "body": f"Putin talks number {i}."} for i in range(first, first + count)]
        (data / f"part-{first}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")

    articles(0, 60)
    report = Indexer(config=config, batch_size=10).run([str(data)])  # six commits: several segments per shard
    assert report.indexed == 60 and report.warnings == [] and _segments(config) == 2
    assert len(report.notes) == 1 and report.notes[0].startswith("merged the index's segments, one per shard")

    articles(60, 10)  # 10 new of 70: a daily update, left to the node's merging
    report = Indexer(config=config, batch_size=5).run([str(data)])
    assert report.indexed == 10 and report.notes == [] and _segments(config) > 2

    articles(70, 40)
    skipped = Indexer(config=config, batch_size=10, merge=False).run([str(data)])
    assert skipped.indexed == 40 and skipped.notes == [] and _segments(config) > 2

    def refused(client, index):
        raise os_backend.BackendUnavailableError("the cluster went away")

    monkeypatch.setattr(os_backend, "merge_segments", refused)
    articles(110, 40)
    failed = Indexer(config=config, batch_size=10).run([str(data)])
    assert failed.indexed == 40 and failed.notes == [] and failed.failed == 0
    assert len(failed.warnings) == 1 and "segments were not merged (BackendUnavailableError: the cluster went away)" in failed.warnings[0]
    assert "_forcemerge?max_num_segments=1" in failed.warnings[0]
    engine = Engine(config=config)
    try:
        assert engine.search("Putin", size=1).total == 150
    finally:
        engine.close()


def test_cli_index_says_it_merged_and_no_merge_skips_it(request, tmp_path):
    """1,000 articles (the least a merge needs) into an empty index: the run ends with a merge and
    says so; the same into another index with --no-merge: none. Whoosh takes the option too."""
    data = tmp_path / "data"
    data.mkdir()
    rows = [{"id": f"n{i}", "title": f"Story {i}", "body": f"Putin talks number {i}."} for i in range(1000)]
    (data / "many.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    merged, skipped = fresh_config("opensearch", request, tmp_path), fresh_config("opensearch", request, tmp_path)
    done = run_cli("index", str(data), "--quiet", *backend_args(merged))
    assert done.returncode == 0 and done.stdout.strip() == "indexed 1000 / updated 0 / unchanged 0 / failed 0", done.stderr
    assert "note: merged the index's segments, one per shard, in " in done.stderr and _segments(merged) == 1
    done = run_cli("index", str(data), "--quiet", "--no-merge", *backend_args(skipped))
    assert done.returncode == 0 and "merged" not in done.stderr, done.stderr
    whoosh = fresh_config("whoosh", request, tmp_path)
    done = run_cli("index", str(data), "--quiet", "--no-merge", *backend_args(whoosh))
    assert done.returncode == 0 and done.stdout.startswith("indexed 1000 /"), done.stderr


def test_environment_chooses_the_backend(config):
    env = {"SEARCH_BACKEND": config.backend, "SEARCH_OPENSEARCH_URL": ",".join(config.urls), "SEARCH_INDEX": config.index_dir}
    args = ["--opensearch-index", config.index_name] if config.backend == "opensearch" else []
    done = run_cli("query", "普京", "--json", *args, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["total"] > 20


def test_serve_answers_from_either_backend_in_several_workers(config):
    from tests.reldata import Server, http_get

    with Server(config.index_dir, threads=None, extra=("--workers", "2", *backend_args(config))) as server:
        for _ in range(6):  # connections alternate between the two worker processes
            status, body = http_get(server.base + "/api/search?q=%E6%99%AE%E4%BA%AC&size=3")
            assert status == 200 and json.loads(body)["total"] > 20
        status, page = http_get(server.base + "/?q=%E7%BF%92%E8%BF%91%E5%B9%B3")
        assert status == 200 and "<mark>習近平</mark>" in page.decode("utf-8")


# --- the same matching on both ---------------------------------------------------------------------

QUERIES = [
    "习近平", "長江", "经济 发展", '"长江经济带"', '"经济 发展"', "长江 -经济", "习近平 OR 李克强", "(长江 OR 黄河) 生态",
    "title:长江", "body:\"新时代\"", "oil prices", '"oil prices"', "oil -prices", "cocoa OR coffee", "wheat AND export",
    '"the bank"', "Putin", "trade 贸易", "NOT 经济", "中俄關係", '"一帶一路"', "stocks rose", "1987", "cooperating",
    # pasted page titles: a site name only adds to the score; a quote inside Chinese text is punctuation
    "推动长江经济带“生态优先”绿色发展-新华网", "Oil prices rose in New York trading - Reuters",
]


@pytest.fixture(scope="module")
def news(request, tmp_path_factory) -> dict[str, BackendConfig]:
    """The same 1,200 shared news articles (Chinese and English) on both backends."""
    rows = []
    for name in ("xwlb.jsonl", "reuters21578.jsonl"):
        path = SHARED / "jsonl" / name
        if not path.exists():
            pytest.skip(f"{path} not present")
        with path.open(encoding="utf-8") as lines:
            rows += [next(lines) for _ in range(600)]
    folder = tmp_path_factory.mktemp("news")
    data = folder / "data"
    data.mkdir()
    (data / "news.jsonl").write_text("".join(rows), "utf-8")
    configs = {}
    for backend in BACKENDS:
        config = fresh_config(backend, request, folder / backend)
        if backend == "opensearch":  # several shards: totals, stories and statistics must not depend on them
            config = dataclasses.replace(config, shards=3)
        report = Indexer(config=config).run([str(data)])
        assert report.failed == 0 and report.indexed == 1200, report.failures[:3]
        configs[backend] = config
    return configs


@pytest.mark.parametrize("translate", [True, False])
def test_the_same_queries_match_the_same_articles(news, translate):
    from search.filters import SearchFilters
    from search.searcher import Engine

    engines = {backend: Engine(config=config) for backend, config in news.items()}
    try:
        filters = SearchFilters(translate=translate)
        for query in QUERIES:
            totals = {backend: engine.search(query, filters=filters, facets=False, highlight=False).total for backend, engine in engines.items()}
            assert totals["whoosh"] == totals["opensearch"], (query, totals)
        dated = SearchFilters(translate=translate, date_from=__import__("datetime").date(2022, 1, 1), lang="zh")
        for query in QUERIES[:6]:
            totals = {backend: engine.search(query, filters=dated, facets=False).total for backend, engine in engines.items()}
            assert totals["whoosh"] == totals["opensearch"], (query, totals)
    finally:
        for engine in engines.values():
            engine.close()


def test_planning_reads_the_same_term_statistics_from_every_shard(news):
    """The document frequencies planning reads (which words and translations the index holds,
    how rare they are) are the same on a three-shard OpenSearch index as on Whoosh."""
    from search.backends.base import open_backend

    stores = {backend: open_backend(config) for backend, config in news.items()}
    try:
        views = {backend: store.view() for backend, store in stores.items()}
        fields = ("title_zh", "body_zh", "body_en", "body_bigrams", "captions_en")
        pairs = [(f, t) for f in fields for n, t in enumerate(sorted(views["whoosh"].field_terms(f))) if n % 5 == 0]
        pairs += [(f, t) for f in fields for t in ("zzqxv", "鬰鬰", "nosuchterm")]
        assert len(pairs) > 2000
        found = {backend: view.frequencies(pairs) for backend, view in views.items()}
        assert found["opensearch"] == found["whoosh"]
        assert sum(df > 1 for df in found["whoosh"].values()) > 500 and found["whoosh"][("body_en", "zzqxv")] == 0
        assert views["opensearch"].doc_count == views["whoosh"].doc_count == 1200
    finally:
        for store in stores.values():
            store.close()


def test_the_same_articles_make_the_same_stories(news):
    """Near-duplicate groups (MinHash, cross-language links) do not depend on the backend."""
    from tests.dupdata import stored_groups

    from search.searcher import Engine

    groups = {backend: stored_groups(config) for backend, config in news.items()}
    assert sum(len(group) > 1 for group in groups["whoosh"]) >= 5
    assert groups["whoosh"] == groups["opensearch"]
    engines = {backend: Engine(config=config) for backend, config in news.items()}
    try:
        for query in QUERIES:
            found = {backend: engine.search(query, size=50, highlight=False) for backend, engine in engines.items()}
            counts = {backend: (r.total, r.total_partial, r.groups) for backend, r in found.items()}
            assert counts["whoosh"] == counts["opensearch"], (query, counts)
            for result in found.values():  # each story once, with every matching version
                assert len(result.hits) == min(50, result.groups)
                listed = [i for hit in result.hits for i in (hit.id, *hit.to_dict()["duplicates"]["ids"])]
                assert len(listed) == len(set(listed)) and len(listed) == sum(1 + h.duplicate_count for h in result.hits)
    finally:
        for engine in engines.values():
            engine.close()


# --- errors of the OpenSearch backend ----------------------------------------------------------------


def test_an_unreachable_cluster_is_a_clear_error(tmp_path):
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    done = run_cli("query", "普京", "--backend", "opensearch", "--opensearch", url)
    assert done.returncode == 1 and done.stderr.startswith(f"error: cannot reach OpenSearch at {url}"), done.stderr
    config = BackendConfig(backend="opensearch", urls=(url,))
    with web_app(str(tmp_path), BACKEND=config) as app:
        response = app.test_client().get("/api/search", query_string={"q": "普京"})
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "backend_unavailable" and response.get_json()["error"]["param"] == "opensearch"


def test_a_missing_or_foreign_index_is_refused(request, tmp_path):
    from opensearchpy import OpenSearch

    from search.errors import IndexMissingError, IndexVersionError
    from search.searcher import Engine

    config = fresh_config("opensearch", request, tmp_path)
    with pytest.raises(IndexMissingError, match=config.index_name):
        Engine(config=config)
    client = OpenSearch(hosts=list(config.urls))
    client.indices.create(index=config.index_name, body={"mappings": {"_meta": {"analyzer_version": 0, "schema_version": 1}}})
    client.close()
    with pytest.raises(IndexVersionError, match="analyzer version 0"):
        Engine(config=config)
    done = run_cli("query", "普京", *backend_args(config))
    assert done.returncode == 1 and "incompatible version" in done.stderr


def test_bad_backend_options_are_usage_errors():
    assert run_cli("query", "x", "--backend", "solr").returncode == 2
    done = run_cli("query", "x", "--backend", "opensearch", "--opensearch", "localhost:9200")
    assert done.returncode == 1 and "must start with http://" in done.stderr
    assert run_cli("index", "x", "--backend", "opensearch", "--shards", "0").returncode == 2


def test_articles_the_cluster_refuses_are_reported_each_and_indexed_next_time(request, tmp_path):
    from opensearchpy import OpenSearch

    config = fresh_config("opensearch", request, tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    rows = [{"id": f"r{i}", "title": f"Refused {i}", "body": "Putin said trade grows."} for i in range(3)]
    (data / "r.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    Indexer(config=config).backend.close()  # creates the empty index
    client = OpenSearch(hosts=list(config.urls))
    # A write block, as a cluster sets on an index when its disk fills up: every item fails.
    client.indices.put_settings(index=config.index_name, body={"index.blocks.write": True})
    try:
        done = run_cli("index", str(data), "--quiet", *backend_args(config))
    finally:
        client.indices.put_settings(index=config.index_name, body={"index.blocks.write": False})
        client.close()
    assert done.returncode == 1 and done.stdout.strip() == "indexed 0 / updated 0 / unchanged 0 / failed 3"
    refused = [line for line in done.stderr.splitlines() if line.startswith("failed: ")]
    assert len(refused) == 3 and all("was not stored: OpenSearch refused it (403, cluster_block_exception" in line for line in refused)
    assert {line.split("article '")[1].split("'")[0] for line in refused} == {"r0", "r1", "r2"}
    again = run_cli("index", str(data), "--quiet", *backend_args(config))
    assert again.returncode == 0 and again.stdout.strip() == "indexed 3 / updated 0 / unchanged 0 / failed 0", again.stderr


def test_a_red_cluster_is_refused_with_what_to_do(request, tmp_path):
    from opensearchpy import OpenSearch

    from search.errors import BackendUnavailableError
    from search.searcher import Engine

    config = fresh_config("opensearch", request, tmp_path)
    client = OpenSearch(hosts=list(config.urls))
    # An index whose only shard may live on no node: its primary is unassigned, the cluster red.
    settings = {"index.routing.allocation.require._name": "no-such-node", "number_of_replicas": 0}
    client.indices.create(index=config.index_name, body={"settings": settings}, params={"wait_for_active_shards": "0"})
    try:
        with pytest.raises(BackendUnavailableError, match="is red") as caught:
            Engine(config=config)
        assert caught.value.param == "opensearch"
    finally:
        client.indices.delete(index=config.index_name)
        client.close()


def test_a_result_from_part_of_the_shards_is_an_error_naming_the_cluster(opensearch_url):
    """OpenSearch answers 200 with ``_shards.failed`` when some shards fail: totals and facets
    would silently count part of the index. Here one of two indexes cannot read the query (its
    field is a number, the other's a keyword), so one shard of the two fails."""
    from opensearchpy import OpenSearch

    from search.backends.opensearch.backend import complete
    from search.errors import BackendUnavailableError

    client = OpenSearch([opensearch_url])
    names = {"partial-shards-number": "long", "partial-shards-keyword": "keyword"}
    for name, kind in names.items():
        client.indices.create(index=name, body={"settings": {"number_of_shards": 1, "number_of_replicas": 0}, "mappings": {"properties": {"n": {"type": kind}}}})
        client.index(index=name, id="1", body={"n": "7"}, refresh=True)
    config = BackendConfig(backend="opensearch", urls=(opensearch_url,))
    try:
        answer = client.search(index=",".join(names), body={"query": {"range": {"n": {"gte": "abc"}}}})
        assert answer["_shards"]["failed"] == 1 and answer["_shards"]["successful"] == 1
        with pytest.raises(BackendUnavailableError, match=r"1 of 2 shards failed.*abc") as raised:
            complete(answer, config)
        assert opensearch_url in str(raised.value)
        whole = client.search(index=",".join(names), body={"query": {"match_all": {}}})
        assert complete(whole, config) is whole
    finally:
        client.indices.delete(index=",".join(names))
