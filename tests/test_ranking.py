"""Ranking over whole posting lists gives Whoosh's own results.

``search.backends.whoosh.ranking`` scores queries with array arithmetic instead of Whoosh's
matcher objects. Whatever the query shape the planner builds (words in either
script or language with their translations, several words, phrases, NOT, OR,
field prefixes, filters), the hits, their order, their scores, the total and
the facets must be what Whoosh's searcher gives when it scores every match, on an index of several
segments with replaced (deleted) articles.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from whoosh import query as wq

from search.analysis import query_terms
from search.backends.base import SearchRequest
from search.filters import SearchFilters
from search.indexer import Indexer
from search.query.build import plan
from search.query.parse import parse
from search.query.rewrite import read
from search.backends.whoosh.backend import compiled
from search.backends.whoosh.ranking import Ranker, Unsupported, _varint_lists
from search.backends.whoosh.schema import VarintPositions
from search.searcher import Engine
from tests.reldata import synthetic

@pytest.fixture(autouse=True)
def _backend_order(monkeypatch):
    """The backend's order, as Whoosh scores it: the engine's re-ordering of a long Chinese
    query's first hits (search.rerank, tested in tests/test_rerank.py) is switched off here."""
    from search import rerank

    monkeypatch.setattr(rerank, "typed_stretches", lambda node: [])


QUERIES = [
    "合作", "經濟", "普京", "习近平 会议", "Putin", "trade", "oil prices", '"oil prices"', '"经济合作"',
    "trade -oil", "合作 OR harvest", "title:经济", "body:market summit", "cooperation", "economy",
    "farmers harvest bank rates", "普京表示", "编号17", "ref3 ref4", "习近平 Putin trade 合作",
    "(经济 OR 农业) 发展", "长江 -科技", "summit NOT talks", "nonexistentword", "Xi Jinping",
    '"普京表示合作"', '"普京 表示"', '"We agree"', '"prices oil"', '"合作 合作"', "title:\"经济 合作\"",
    # Words of three characters and more: their bigrams are phrases, and where the word is
    # indexed as a word the phrase is known without its positions.
    "习近平", "很重要", "修订版", "合作很重要", "重要合作", "普京表示合作很重要",
]


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ranking")
    rng = random.Random(11)
    records = []
    for i in range(600):
        record = synthetic(i, rng)
        record["body"] += f" 编号{i} ref{i} " + ("普京表示，合作很重要。" if i % 4 == 0 else "") + (" “We agree,” Putin said." if i % 5 == 0 else "")
        records.append(record)
    data = folder / "data"
    data.mkdir()
    for n in range(3):
        (data / f"part{n}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records[n::3]), "utf-8")
    index_dir = str(folder / "index")
    Indexer(index_dir, procs=1, batch_size=150).run([str(data)])  # several segments
    # Replace some articles: their old versions become deleted documents.
    changed = [dict(r, body=r["body"] + " 修订版 revised") for r in records[0::3][:40]]
    (data / "part0.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in changed + records[0::3][40:]), "utf-8")
    Indexer(index_dir, procs=1, batch_size=150).run([str(data)])
    engine = Engine(index_dir)
    assert len(engine.backend.searcher().reader().leaf_readers()) > 1
    assert engine.backend.searcher().reader().has_deletions()
    yield engine
    engine.close()


def reference(engine: Engine, text: str, filters: SearchFilters, page: int, size: int) -> dict:
    """The engine's result computed with Whoosh alone: every match scored by Whoosh's searcher
    (no limit: Whoosh's limited search can miss better documents on a multi-segment index with
    deletions), complete matches first, then partial ones, each by score then document number."""
    s = engine.backend.searcher()
    reader = s.reader()
    # Typos and pinyin are read as the engine reads them (Xi Jinping also searches 习近平).
    parsed = read(parse(text), text, engine.backend.view(), assist=filters.translate).parsed
    the_plan = plan(parsed, text, lambda f, t: (f, t) in reader, **engine.backend._plan_options(filters, s))
    restrict = restriction(engine, filters)
    allowed = set(s.search(restrict, limit=None, scored=False).docs()) if restrict is not None else None
    if allowed is not None and not allowed:
        return {"total": 0, "partial": 0, "hits": []}

    def ranked(q) -> list[tuple[float, int]]:
        hits = s.search(q, limit=None, filter=allowed, terms=False)
        return sorted(((hit.score, hit.docnum) for hit in hits), key=lambda x: (-x[0], x[1]))

    def complete_then_partial(the_plan):
        primary, fallback = compiled(the_plan)
        result = ranked(primary)
        complete = {docnum for _, docnum in result}
        rest = [x for x in ranked(fallback) if x[1] not in complete] if fallback is not None else []
        return result, rest

    result, rest = complete_then_partial(the_plan)
    if not result and rest and len(the_plan.units) > 1:  # no article holds every word: the engine narrows
        ids = tuple(engine.speaker_ids(filters.speaker)) if filters.speaker else None
        result, rest = complete_then_partial(Engine._narrowed(engine.backend.view(), the_plan, SearchRequest(the_plan, filters, ids, 0, 10)))
    window = (result + rest)[(page - 1) * size : page * size]
    hits = [(s.stored_fields(d)["id"], pytest.approx(score, rel=1e-9, abs=1e-12)) for score, d in window]
    return {"total": len(result), "partial": len(rest), "hits": hits}


def restriction(engine: Engine, filters: SearchFilters):
    """The filters as one Whoosh query (``None``: no filter)."""
    ids = tuple(engine.speaker_ids(filters.speaker)) if filters.speaker else None
    return engine.backend._filter_query(filters, ids)


def summary(result) -> dict:
    return {"total": result.total, "partial": result.total_partial, "hits": [(hit.id, hit.score) for hit in result.hits]}


@pytest.mark.parametrize("text", QUERIES)
def test_hits_scores_and_totals_are_whooshs(engine, text):
    for page, size in ((1, 10), (2, 7)):
        expected = reference(engine, text, SearchFilters(), page, size)
        assert summary(engine.search(text, page=page, size=size)) == expected, text


@pytest.mark.parametrize(
    "params",
    [{"lang": "zh"}, {"lang": "en"}, {"from": "2015-01-01", "to": "2019-12-31"}, {"speaker": "Putin"}, {"speaker": "nobody at all"}],
)
def test_filters_give_whooshs_results(engine, params):
    filters = SearchFilters.from_params(params)
    for text in ("合作", "trade talks", "普京"):
        assert summary(engine.search(text, filters=filters, size=20)) == reference(engine, text, filters, 1, 20), (text, params)
    everything = engine.search("*", filters=filters, size=20)
    restrict = restriction(engine, filters)
    assert everything.total == len(engine.backend.searcher().search(restrict, limit=None, scored=False).docs())


def test_facets_count_the_complete_matches(engine):
    result = engine.search("合作 trade", size=5)
    s = engine.backend.searcher()
    found = reference(engine, "合作 trade", SearchFilters(), 1, 10_000)
    every = found["hits"][: found["total"]]  # the complete matches
    years: dict[int, int] = {}
    for article_id, _ in every:
        year = int(s.stored_fields(s.document_number(id=article_id))["date_iso"][:4])
        years[year] = years.get(year, 0) + 1
    assert result.total == len(every)
    assert {y["year"]: y["count"] for y in result.facets["years"]} == years


def test_shapes_it_does_not_score_go_to_whoosh(engine):
    s = engine.backend.searcher()
    ranker = Ranker(s, engine.backend._shared(s).postings)
    with pytest.raises(Unsupported):
        ranker.scores(wq.Prefix("title_en", "tra"))
    assert engine.search("*", size=3).total == s.doc_count()


def test_everything_is_scored_as_whoosh_scores_it(engine):
    # ``*`` (filter-only searches, exports of everything) is ranked here, not collected by Whoosh.
    s = engine.backend.searcher()
    ranker = Ranker(s, engine.backend._shared(s).postings)
    for boost in (1.0, 2.5):
        mask, scores = ranker.scores(wq.Every(boost=boost))
        expected = sorted((hit.docnum, hit.score) for hit in s.search(wq.Every(boost=boost), limit=None, terms=False))
        assert [(int(d), float(scores[d])) for d in np.flatnonzero(mask)] == expected


def test_a_common_word_ranks_every_match(engine):
    result = engine.search("合作", size=100)
    scores = [hit.score for hit in result.hits]
    assert result.total > 100 and len(scores) == 100
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1] > 0


def test_a_warmed_engine_answers_exactly_as_a_cold_one(engine):
    # A server warms up (the whole lexicon, long posting lists in memory) before serving:
    # that must change how fast it answers, never what.
    warmed = Engine(engine.index_dir)
    try:
        cached = warmed.warm(min_df=2)
        assert cached > 0
        s = warmed.backend.searcher()
        reader = s.reader()
        generation = warmed.backend._shared(s).postings
        for fieldname, tbytes in list(reader.all_terms())[::7]:
            text = tbytes.decode("utf-8") if fieldname != "day" else tbytes
            assert generation.doc_frequency(reader, fieldname, text) == reader.doc_frequency(fieldname, tbytes)
        assert generation.doc_frequency(reader, "body_zh", "不存在的词") == 0
        for text in QUERIES:
            assert summary(warmed.search(text)) == summary(engine.search(text)), text
            assert warmed.search(text).facets == engine.search(text).facets, text
    finally:
        warmed.close()


def test_phrases_checked_on_kept_positions_match_whoosh(engine, monkeypatch):
    # Common words' positions are decoded once and kept; here every word counts as common.
    from search.backends.whoosh import ranking

    monkeypatch.setattr(ranking, "CACHE_POSITIONS_MIN_DF", 1)
    fresh = Engine(engine.index_dir)
    try:
        fresh.warm(min_df=1)
        assert fresh.backend._shared(fresh.backend.searcher()).postings._positions  # positions were kept
        for text in [q for q in QUERIES if '"' in q] + ["Putin trade", "普京 合作"]:
            expected = reference(fresh, text, SearchFilters(), 1, 10)
            assert summary(fresh.search(text)) == expected, text
    finally:
        fresh.close()


def test_a_common_words_positions_are_read_for_the_wanted_documents_then_kept(engine, monkeypatch):
    # Not warmed: the first phrase check of a common word decodes only the documents it wants,
    # the second decodes the word whole and keeps it; both answer as Whoosh does.
    from search.backends.whoosh import ranking

    monkeypatch.setattr(ranking, "CACHE_POSITIONS_MIN_DF", 1)
    fresh = Engine(engine.index_dir)
    try:
        texts = [q for q in QUERIES if '"' in q] + ["Putin trade", "普京 合作"]
        for _ in range(2):
            for text in texts:
                assert summary(fresh.search(text)) == reference(fresh, text, SearchFilters(), 1, 10), text
        assert fresh.backend._shared(fresh.backend.searcher()).postings._positions  # kept the second time
    finally:
        fresh.close()


def test_shared_caches_stay_within_their_size_and_drop_the_least_recently_used():
    from search.backends.whoosh.ranking import _LRU

    cache = _LRU(100, size=len)
    for name in "abcd":
        cache.put(name, [0] * 20)
    assert cache.get("a") is not None  # used again: "b" is now the oldest
    cache.put("e", [0] * 20)
    cache.put("f", [0] * 20)
    assert cache.size <= 100 and cache.get("b") is None and cache.get("a") is not None
    assert cache.get_or_load("huge", lambda: [0] * 60) == [0] * 60  # returned, not kept
    assert cache.get("huge") is None and cache.size <= 100


def test_a_commit_while_serving_is_warmed_in_the_background_before_searches_switch(tmp_path):
    # A server warms up once; articles indexed while it serves make a new index generation,
    # which must be warmed too (without a restart), in the background while the old generation
    # keeps answering (searching a cold generation under load was a brownout of tens of
    # seconds), and then answer like a cold engine.
    rng = random.Random(5)
    data = tmp_path / "data"
    data.mkdir()
    records = [synthetic(i, rng) for i in range(120)]
    (data / "a.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records[:80]), "utf-8")
    index_dir = str(tmp_path / "index")
    Indexer(index_dir, procs=1).run([str(data)])
    served = Engine(index_dir)
    try:
        served.warm(min_df=2)
        first = served.warmer
        new = [dict(r, body=r["body"] + " 新加的词汇 freshlyadded") for r in records[80:]]
        (data / "b.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in new), "utf-8")
        # Retitled: the old titles must leave the suggestions with the old versions.
        retitled = [dict(r, title="Retitledstory " + r["title"]) for r in records[:5]] + records[5:80]
        (data / "a.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in retitled), "utf-8")
        Indexer(index_dir, procs=1).run([str(data)])
        result = served.search("freshlyadded")
        assert result.total == 0  # still the generation warmed before the commit
        assert served.warmer is not first and served.warmer is not None
        served.warmer.join(30)
        assert served.search("freshlyadded").total == len(new)  # switched once warm
        s = served.backend.searcher()
        generation = served.backend._shared(s).postings
        assert generation._postings.size > 0  # the new generation's posting lists are in memory
        assert "body_en" in generation._complete  # the new lexicon is known: planning asks Whoosh nothing
        assert generation.doc_frequency(s.reader(), "body_en", "zzqqxx") == 0
        stem = query_terms("freshlyadded")[0].term
        assert sum(generation.doc_frequency(s.reader(), f, stem) for f in ("body_en", "body_zh")) == len(new)
        cold = Engine(index_dir)
        try:
            for text in ["freshlyadded", "新加的词汇", *QUERIES[:8]]:
                assert summary(served.search(text)) == summary(cold.search(text)), text
            # Suggestions and vocabularies, partly kept from the segments both generations share.
            for prefix in ("retitled", "Retitledstory", "fresh", "经", "t", records[0]["title"][:2]):
                assert served.backend.suggestions().suggest(prefix) == cold.backend.suggestions().suggest(prefix), prefix
            assert served.backend.suggestions().suggest("Retitledstory")
            for fieldname in ("body_en", "title_zh", "body_zh"):
                assert list(served.backend.view().field_terms(fieldname)) == list(cold.backend.view().field_terms(fieldname))
        finally:
            cold.close()
    finally:
        served.close()


def test_a_new_generation_inherits_the_caches_of_the_segments_it_shares(tmp_path, monkeypatch):
    # A commit adds a segment and leaves the older ones as they were: the new generation takes
    # their posting lists, positions, field lengths and term statistics from the generation being
    # served instead of reading them again (a warm-up of seconds, not a minute), and they must be
    # exactly what reading the new generation gives, replaced articles' old versions gone.
    from search.backends.whoosh import ranking

    monkeypatch.setattr(ranking, "CACHE_POSITIONS_MIN_DF", 1)
    rng = random.Random(9)
    data = tmp_path / "data"
    data.mkdir()
    records = [synthetic(i, rng) for i in range(160)]
    write = lambda name, rows: (data / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    write("a.jsonl", records[:120])
    index_dir = str(tmp_path / "index")
    Indexer(index_dir, procs=1).run([str(data)])
    served = Engine(index_dir)
    cold = None
    try:
        served.warm(min_df=1)
        before = served.backend._shared(served.backend.searcher()).postings
        assert before._positions and before._complete
        write("a.jsonl", [dict(r, body=r["body"] + " 修订版 revised") for r in records[:10]] + records[10:120])
        write("b.jsonl", [dict(r, body=r["body"] + " 新加的词汇 freshlyadded") for r in records[120:]])
        Indexer(index_dir, procs=1).run([str(data)])
        cold = Engine(index_dir)
        reader = cold.backend.searcher().reader()
        inherited, read = ranking.Generation(reader), ranking.Generation(reader)
        assert len(inherited.layout) > 1 and inherited.layout[0] == before.layout[0]
        assert inherited.inherit(reader, before)
        assert not inherited.live.all()  # the replaced articles' old versions are deleted documents
        grew = 0
        for (fieldname, tbytes), found in inherited._postings.snapshot():
            expected = read.postings(reader, fieldname, tbytes)
            assert found.docs.tolist() == expected.docs.tolist() and found.weights.tolist() == expected.weights.tolist(), (fieldname, tbytes)
            grew += int(found.docs.max(initial=0) >= before.count)
        assert grew > 0  # lists that gained documents of the new segments
        for (fieldname, tbytes), found in inherited._positions.snapshot():
            expected = ranking._decode_positions(reader, fieldname, tbytes, read.term_infos(reader, fieldname, tbytes), None)
            for name in ("docs", "starts", "lengths", "positions"):
                assert getattr(found, name).tolist() == getattr(expected, name).tolist(), (fieldname, tbytes, name)
        assert inherited._lengths
        for fieldname, found in inherited._lengths.items():
            assert found.tolist() == read.lengths(reader, fieldname).tolist(), fieldname
        assert inherited._complete == before._complete
        for fieldname, tbytes in reader.all_terms():
            if fieldname in inherited._complete:
                assert inherited.doc_frequency(reader, fieldname, tbytes.decode("utf-8")) == reader.doc_frequency(fieldname, tbytes)
    finally:
        served.close()
        if cold is not None:
            cold.close()


def test_a_string_is_found_where_jieba_made_it_a_word_and_where_it_did_not(tmp_path):
    # 习近平 as jieba's word, inside other words (复习 近 平时), and its bigrams apart (习近 … 近平):
    # the bigram phrase takes the first without a position check and must still check the others.
    bodies = {"word": "习近平会见外宾", "inside": "复习近平时的功课", "apart": "学习近况。平安近平", "also-inside": "温习近平日所学"}
    data = tmp_path / "data"
    data.mkdir()
    records = [{"id": key, "title": "标题", "body": body, "date": "2024-01-02T08:00:00+08:00", "source": "T"} for key, body in bodies.items()]
    (data / "a.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    Indexer(str(tmp_path / "index"), procs=1).run([str(data)])
    engine = Engine(str(tmp_path / "index"))
    try:
        assert {hit.id for hit in engine.search("习近平").hits} == {"word", "inside", "also-inside"}
    finally:
        engine.close()


def test_positions_decode_in_a_batch_as_whooshs_matchers_decode_them_one_at_a_time():
    rng = random.Random(11)
    fmt = VarintPositions(field_boost=2.5)
    lists = [sorted(rng.sample(range(rng.choice([60, 500, 20_000, 3_000_000])), rng.randint(1, 8))) for _ in range(2000)]
    values = [fmt.encode(positions) for positions in lists]
    assert fmt.encode([5]) == b"\x05" and fmt.encode([200]) == b"\xc8\x01"  # one byte below 128
    for positions, value in zip(lists, values):
        assert fmt.decode_positions(value) == positions
        assert fmt.decode_frequency(value) == len(positions) and fmt.decode_weight(value) == 2.5 * len(positions)
    for batch in (values, values[:1], [v for v in values if max(v) < 0x80], []):
        counts, deltas = _varint_lists(batch)
        decoded = [fmt.decode_positions(v) for v in batch]
        assert counts.tolist() == [len(p) for p in decoded]
        assert deltas.tolist() == [d for p in decoded for d in np.diff([0, *p]).tolist()]
