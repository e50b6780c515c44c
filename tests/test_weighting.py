"""The engine's BM25F: Lucene's IDF on the character-pair fields, Whoosh's on the others."""

from __future__ import annotations

import json
from math import log

import pytest
from whoosh import query as wq

from search.backends.whoosh.ranking import Ranker, top
from search.backends.whoosh.weighting import EngineBM25F
from search.indexer import Indexer
from search.searcher import Engine

COMMON = "中国人民银行"  # its pairs 中国, 人民, 银行 stand in nine of the ten articles
RARE = "罕见天气现象"  # 罕见 in one


def indexed(folder, bodies: dict[str, str]) -> Engine:
    records = [{"id": key, "title": f"标题 {key}", "body": body, "date": "2024-01-02T08:00:00+08:00", "source": "T"} for key, body in bodies.items()]
    (folder / "a.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    Indexer(str(folder / "index"), procs=1).run([str(folder / "a.jsonl")])
    return Engine(str(folder / "index"))


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    engine = indexed(tmp_path_factory.mktemp("weighting"), {f"common{i}": COMMON for i in range(9)} | {"rare": RARE})
    yield engine
    engine.close()


def pairs_query(pairs: list[str]) -> wq.Query:
    return wq.Or([wq.Term("body_bigrams", pair) for pair in pairs])


def ranked_ids(engine: Engine, q: wq.Query) -> list[tuple[str, float]]:
    s = engine.backend.searcher()
    matches, scores = Ranker(s, engine.backend._shared(s).postings).scores(q)
    return [(s.stored_fields(d)["id"], score) for d, score in top(matches, scores, 10)]


def test_one_rare_pair_outranks_three_pairs_nearly_every_article_holds(engine):
    # Whoosh's IDF never falls below 1 (log(N / (n + 1)) + 1): three pairs held by 9 of 10
    # articles would weigh 3 against the rare pair's 2.6 and put those nine first.
    hits = ranked_ids(engine, pairs_query(["中国", "人民", "银行", "罕见"]))
    assert hits[0][0] == "rare"
    assert hits[1][1] < 0.25 * hits[0][1]


def test_pairs_are_weighted_with_lucenes_idf_and_words_with_whooshs(engine):
    s = engine.backend.searcher()
    n, count = 9, 10
    assert s.idf("body_bigrams", "中国") == pytest.approx(log(1 + (count - n + 0.5) / (n + 0.5)))
    assert s.idf("body_zh", "中国") == pytest.approx(log(count / (n + 1)) + 1)


def test_whooshs_own_searcher_scores_pairs_as_the_ranking_does(engine):
    q = pairs_query(["中国", "人民", "银行", "罕见"])
    s = engine.backend.searcher()
    whoosh = sorted(((s.stored_fields(hit.docnum)["id"], hit.score) for hit in s.search(q, limit=None)), key=lambda x: (-x[1], x[0]))
    ours = sorted(ranked_ids(engine, q), key=lambda x: (-x[1], x[0]))
    assert [i for i, _ in ours] == [i for i, _ in whoosh]
    assert [score for _, score in ours] == pytest.approx([score for _, score in whoosh], rel=1e-9)


def test_the_ranking_scores_with_bm25_parameters_per_field_as_whoosh_does(engine):
    # b per field (Whoosh's body_B=…) must reach the ranking's own scoring too, or the two
    # scoring paths of one search order articles differently.
    q = wq.Or([pairs_query(["中国", "人民", "罕见"]), wq.Term("body_zh", "中国人民银行"), wq.Term("body_zh", "罕见")])
    s = engine.backend.ix.searcher(weighting=EngineBM25F(B=0.75, K1=1.2, body_bigrams_B=0.2, body_zh_B=1.0))
    try:
        whoosh = {s.stored_fields(hit.docnum)["id"]: hit.score for hit in s.search(q, limit=None)}
        matches, scores = Ranker(s, engine.backend._shared(s).postings).scores(q)
        ours = {s.stored_fields(d)["id"]: score for d, score in top(matches, scores, 10)}
        default = engine.backend.searcher()
        plain = {default.stored_fields(hit.docnum)["id"]: hit.score for hit in default.search(q, limit=None)}
    finally:
        s.close()
    assert ours == pytest.approx(whoosh, rel=1e-9)
    assert ours != pytest.approx(plain, rel=1e-6)  # the per-field values changed the scores
