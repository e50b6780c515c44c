"""Date, language and speaker filters, date sort and facets, through the engine and the API."""

from __future__ import annotations

import json

import pytest

from search.errors import QueryError
from search.filters import SearchFilters
from search.indexer import Indexer
from search.searcher import Engine
from tests.conftest import SEED
from web import create_app

ROWS = [
    {"id": "putin-zh", "title": "普京谈合作", "body": "俄罗斯总统普京表示，俄方愿同各方加强合作。", "date": "2024-10-05T19:00:00+08:00", "source": "新闻联播"},
    {"id": "putin-en", "title": "Putin on energy", "body": "Russian President Vladimir Putin said on Friday gas exports would grow.", "date": "2023-03-10T12:00:00+00:00"},
    {"id": "li-zh", "title": "李强出席论坛", "body": "国务院总理李强在论坛上强调，要扩大开放。", "date": "2024-10-20T19:00:00+08:00"},
    {"id": "baker-en", "title": "Dollar talks", "body": "Treasury Secretary James Baker said the dollar was stable.\n    Baker said talks would go on.", "date": "1987-03-02T10:00:00+00:00"},
    {"id": "nodate", "title": "合作新闻", "body": "双方同意加强合作。"},
]


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    folder = tmp_path_factory.mktemp("filters")
    (folder / "rows.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in ROWS), "utf-8")
    (folder / SEED.name).write_bytes(SEED.read_bytes())
    index_dir = str(tmp_path_factory.mktemp("ix"))
    assert Indexer(index_dir).run([str(folder)]).failed == 0
    return Engine(index_dir)


def found(engine, q, **params):
    return [h.id for h in engine.search(q, size=50, filters=SearchFilters.from_params(params)).hits]


@pytest.mark.parametrize("alias", ["Putin", "普京", "普丁", "Vladimir Putin"])
def test_speaker_filter_accepts_any_alias_and_crosses_languages(engine, alias):
    assert set(found(engine, "*", speaker=alias)) == {"putin-zh", "putin-en", "000_1797282344cdefbc"}


def test_speaker_filter_with_a_query(engine):
    assert set(found(engine, "合作", speaker="Putin")) == {"putin-zh", "000_1797282344cdefbc"}
    assert found(engine, "合作", speaker="李强") == []
    assert found(engine, "开放", speaker="Li Qiang") == ["li-zh"]


def test_surname_only_speaker_known_from_the_index(engine):
    assert found(engine, "*", speaker="Baker") == ["baker-en"]


def test_date_range_is_inclusive_in_the_articles_own_time_zone(engine):
    october = found(engine, "*", **{"from": "2024-10-01", "to": "2024-10-31"})
    assert set(october) == {"putin-zh", "li-zh", "000_1797282344cdefbc"}
    assert set(found(engine, "*", **{"from": "2024-10-20", "to": "2024-10-20"})) == {"li-zh"}
    assert "nodate" not in found(engine, "合作", **{"from": "1900-01-01"})
    assert "nodate" in found(engine, "合作")


def test_an_open_ended_date_range_filters_on_its_one_end(engine):
    # "to" alone used to let every article through (Whoosh's open-ended range on the day field).
    assert set(found(engine, "*", to="2023-12-31")) == {"putin-en", "baker-en"}
    assert set(found(engine, "*", **{"from": "2024-10-06"})) == {"li-zh", "000_1797282344cdefbc"}
    assert found(engine, "合作", to="2030-01-01") == found(engine, "合作", **{"from": "1900-01-01"})
    assert "nodate" not in found(engine, "*", to="2030-01-01")


def test_date_order_is_whooshs_sorted_search(engine):
    """Date order from the day table: the same documents, order and scores (the day) as Whoosh's
    ``sortedby="day", reverse=True`` over the same matches."""
    from whoosh import query as wq

    view = engine.backend.view()
    for q, params in (("*", {}), ("合作", {}), ("*", {"from": "2024-01-01"}), ("Putin", {"lang": "en"})):
        got = engine.search(q, size=50, filters=SearchFilters.from_params({**params, "sort": "date", "collapse": "false"}))
        allowed = [h.id for h in engine.search(q, size=50, filters=SearchFilters.from_params({**params, "collapse": "false"})).hits]
        docs = {view.s.document_number(id=i) for i in allowed}
        expected = [(view.s.stored_fields(hit.docnum)["id"], hit.score) for hit in view.s.search(wq.Every(), filter=docs, sortedby="day", reverse=True, limit=None)]
        assert [(h.id, h.score) for h in got.hits] == expected, (q, params)


def test_articles_where_putin_spoke_in_october_2024(engine):
    assert set(found(engine, "*", speaker="Putin", **{"from": "2024-10-01", "to": "2024-10-31"})) == {"putin-zh", "000_1797282344cdefbc"}


def test_language_filter(engine):
    assert "putin-en" not in found(engine, "*", lang="zh")
    assert set(found(engine, "Putin", lang="en")) == {"putin-en", "000_1797282344cdefbc"}


def test_sort_by_date_newest_first_undated_last(engine):
    order = found(engine, "*", sort="date")
    assert order[0] == "000_1797282344cdefbc" and order[1] == "li-zh"
    assert order[-1] == "nodate"


def test_facets_cover_the_whole_result_set(engine):
    result = engine.search("*", size=1)
    years = {f["year"]: f["count"] for f in result.facets["years"]}
    assert years == {2024: 3, 2023: 1, 1987: 1}
    speakers = {f["id"]: f["count"] for f in result.facets["speakers"]}
    assert speakers["vladimir-putin"] == 3 and speakers["xi-jinping"] == 1
    putin = next(f for f in result.facets["speakers"] if f["id"] == "vladimir-putin")
    assert putin["names"] == {"zh": "普京", "en": "Vladimir Putin"}


def test_hits_carry_their_speakers(engine):
    (hit,) = engine.search("开放").hits
    assert hit.speakers == [{"id": "li-qiang", "names": {"zh": "李强", "en": "Li Qiang"}, "quotes": 1}]


def test_speaker_autocomplete(engine):
    assert [s["id"] for s in engine.suggest_speakers("Pu")] == ["vladimir-putin"]
    assert [s["id"] for s in engine.suggest_speakers("普")] == ["vladimir-putin"]
    assert [s["id"] for s in engine.suggest_speakers("習")] == ["xi-jinping"]


@pytest.mark.parametrize(
    "params, param",
    [({"from": "2024-13-01"}, "from"), ({"to": "yesterday"}, "to"), ({"from": "2024-10-02", "to": "2024-10-01"}, "from"),
     ({"sort": "random"}, "sort"), ({"lang": "fr"}, "lang"), ({"translate": "maybe"}, "translate")],
)
def test_bad_filter_values_name_the_parameter(params, param):
    with pytest.raises(QueryError) as err:
        SearchFilters.from_params(params)
    assert err.value.param == param


def test_api_filters_and_errors(engine):
    client = create_app({"INDEX_DIR": engine.index_dir}).test_client()
    body = client.get("/api/search", query_string={"q": "*", "speaker": "普丁", "from": "2024-10-01"}).get_json()
    assert {h["id"] for h in body["hits"]} == {"putin-zh", "000_1797282344cdefbc"}
    assert body["filters"] == {"from": "2024-10-01", "speaker": "普丁"}
    bad = client.get("/api/search", query_string={"q": "x", "to": "2024-02-30"})
    assert bad.status_code == 400 and bad.get_json()["error"]["param"] == "to"


def test_filter_that_matches_nothing_gives_zero_total(engine):
    result = engine.search("普京", filters=SearchFilters.from_params({"from": "2030-01-01"}))
    assert (result.total, result.hits) == (0, [])


def test_facets_and_speakers_are_right_across_segments(tmp_path):
    """Segments written by separate runs, some without speakers or dates, still line up."""
    ix = str(tmp_path / "ix")
    first = tmp_path / "a.jsonl"
    first.write_text("\n".join(json.dumps({"id": f"plain{i}", "body": "farmers harvest wheat"}) for i in range(3)), "utf-8")
    Indexer(ix).run([str(first)])
    second = tmp_path / "b.jsonl"
    second.write_text(json.dumps({"id": "p", "body": "Putin said farmers matter.", "date": "2024-01-02T00:00:00+00:00"}), "utf-8")
    Indexer(ix).run([str(second)])
    engine = Engine(ix)
    result = engine.search("farmers", filters=SearchFilters(collapse=False))  # the three plain copies are one story
    by_id = {h.id: h.speakers for h in result.hits}
    assert by_id["p"][0]["id"] == "vladimir-putin"
    assert all(by_id[f"plain{i}"] == [] for i in range(3))
    assert result.facets["years"] == [{"year": 2024, "count": 1}]
    assert [f["id"] for f in result.facets["speakers"]] == ["vladimir-putin"]


def test_match_everything_with_a_filter_that_matches_nothing_is_empty(engine):
    result = engine.search("*", filters=SearchFilters.from_params({"from": "2030-01-01"}))
    assert (result.total, result.hits) == (0, [])
