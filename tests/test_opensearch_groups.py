"""Near-duplicate groups on both storage backends: the same groups, the same collapsed results.

The seed article and its copies (``tests/dupdata.py``: simplified script only, English only, a
corrected re-filing) plus related and unrelated stories, indexed on Whoosh and on a real
OpenSearch node (the ``opensearch_url`` fixture).
"""

from __future__ import annotations

import json
import shutil
from datetime import date

import pytest

from search.backends.base import BackendConfig
from search.filters import SearchFilters
from search.indexer import Indexer
from search.searcher import Engine
from tests.dupdata import COPIES, SEED, SEED_ID, records, stored_groups
from tests.test_backends import BACKENDS, fresh_config

QUERIES = ["習近平 普京 會晤", "Kazan harvest 会晤", "普京 Bahia", "Xi Jinping Kazan", "cocoa"]


def write_data(folder, rows: list[dict]) -> str:
    data = folder / "data"
    data.mkdir(exist_ok=True)
    shutil.copy(SEED, data / SEED.name)
    (data / "copies.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return str(data)


def index(config: BackendConfig, data: str, *, prune: bool = False, dedup: bool = True) -> None:
    indexer = Indexer(config=config, dedup=dedup)
    try:
        report = indexer.run([data], prune=prune)
    finally:
        indexer.backend.close()
    assert report.failed == 0, report.failures


def stories(result) -> list[frozenset[str]]:
    """Each hit of a collapsed result with the versions it lists."""
    return [frozenset({hit.id, *hit.to_dict()["duplicates"]["ids"]}) for hit in result.hits]


@pytest.fixture(scope="module")
def engines(request, tmp_path_factory) -> dict[str, Engine]:
    folder = tmp_path_factory.mktemp("dupgroups")
    data = write_data(folder, records())
    built = {}
    for backend in BACKENDS:
        config = fresh_config(backend, request, folder / backend)
        index(config, data)
        built[backend] = Engine(config=config)
    yield built
    for engine in built.values():
        engine.close()


def test_both_backends_store_the_same_groups(engines):
    groups = {backend: stored_groups(engine.config) for backend, engine in engines.items()}
    assert frozenset(COPIES) in groups["opensearch"]
    assert groups["whoosh"] == groups["opensearch"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_copies_in_two_scripts_collapse_into_one_hit_with_both_ids(engines, backend):
    result = engines[backend].search("習近平 普京 會晤", size=20)
    shown = [hit for hit in result.hits if hit.id in COPIES]
    assert len(shown) == 1
    duplicates = shown[0].to_dict()["duplicates"]
    assert {shown[0].id, *duplicates["ids"]} == COPIES and duplicates["count"] == 3
    assert result.groups == len(result.hits) < result.total


@pytest.mark.parametrize("backend", BACKENDS)
def test_collapse_false_shows_every_article(engines, backend):
    every = engines[backend].search("習近平 普京 會晤", size=20, filters=SearchFilters(collapse=False))
    collapsed = engines[backend].search("習近平 普京 會晤", size=20)
    assert COPIES <= {hit.id for hit in every.hits}
    assert all("duplicates" not in hit.to_dict() for hit in every.hits)
    assert (every.total, every.groups) == (collapsed.total, collapsed.groups)
    assert set().union(*stories(collapsed)) == {hit.id for hit in every.hits}


FILTERED = {
    "none": {},
    # Versions outside the filters are not listed (a story's English copies, its 2024-10-22 one).
    "lang": {"lang": "zh"},
    "date": {"date_from": date(2024, 10, 23)},
}


@pytest.mark.parametrize("filtered", sorted(FILTERED))
@pytest.mark.parametrize("sort", ["relevance", "date"])
def test_both_backends_list_the_same_stories(engines, sort, filtered):
    """Complete and partial matches, their counts, the stories and the versions each lists."""
    filters = SearchFilters(sort=sort, **FILTERED[filtered])
    for query in QUERIES:
        found = {backend: engine.search(query, size=20, filters=filters) for backend, engine in engines.items()}
        counts = {backend: (r.total, r.total_partial, r.groups) for backend, r in found.items()}
        assert counts["whoosh"] == counts["opensearch"], (query, counts)
        listed = {backend: set(stories(r)) for backend, r in found.items()}
        assert listed["whoosh"] == listed["opensearch"], (query, listed)
        assert len(found["opensearch"].hits) == found["opensearch"].groups


@pytest.mark.parametrize("backend", BACKENDS)
def test_partial_matches_are_listed_under_their_story_once(engines, backend):
    """A story with complete and partial matches is one hit, among the complete ones; stories
    matching part of the query follow, even those scoring higher (unrelated-en: "harvest")."""
    result = engines[backend].search("Kazan harvest 会晤", size=20)
    assert (result.total, result.total_partial) == (3, 5)
    ids = [hit.id for hit in result.hits]
    assert set(ids[:2]) == {SEED_ID, "copy-hans-next-year"} and "unrelated-en" in ids[2:]
    assert set(result.hits[0].to_dict()["duplicates"]["ids"]) == COPIES - {SEED_ID}
    assert all(h.score > 0 for h in result.hits)  # partial matches keep their own scores


@pytest.mark.parametrize("sort", ["relevance", "date"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_pages_of_stories_split_one_list(engines, backend, sort):
    """Pages filled by complete matches and pages reaching into the partial ones (on OpenSearch
    two ways of asking, see groups.collapsed_page) split the same list, with the same scores."""
    filters = SearchFilters(sort=sort)
    for query in QUERIES[:3]:
        whole = [(hit.id, round(hit.score, 4)) for hit in engines[backend].search(query, size=20, filters=filters).hits]
        for size in (1, 2):
            pages = (engines[backend].search(query, page=page, size=size, filters=filters) for page in range(1, len(whole) + 2))
            assert [(hit.id, round(hit.score, 4)) for result in pages for hit in result.hits] == whole, (query, size)


@pytest.mark.parametrize("backend", BACKENDS)
def test_date_order_shows_each_group_by_its_earliest_article(engines, backend):
    result = engines[backend].search("Xi Jinping Kazan", size=20, filters=SearchFilters(sort="date", translate=False))
    assert {hit.id for hit in result.hits} & COPIES == {"copy-en"}  # 2024-10-22, the earliest of the four


@pytest.mark.parametrize("backend", BACKENDS)
def test_facets_count_articles_not_groups(engines, backend):
    result = engines[backend].search("習近平 普京 會晤", size=20)
    assert sum(year["count"] for year in result.facets["years"]) == result.total > result.groups


def test_similar_gives_the_same_versions_and_related_stories_on_both(engines):
    found = {backend: engine.similar(SEED_ID) for backend, engine in engines.items()}
    for backend, similar in found.items():
        versions = {item["id"] for item in similar["versions"]}
        related = [item["id"] for item in similar["related"]]
        assert versions == COPIES - {SEED_ID}, backend
        assert not versions & set(related) and SEED_ID not in related, backend
        assert {"related-en", "related-zh", "copy-hans-next-year"} <= set(related), (backend, related)
        if "unrelated-en" in related:
            assert related.index("related-en") < related.index("unrelated-en"), backend
    assert [v["id"] for v in found["opensearch"]["versions"]] == ["copy-en", "copy-en-corrected", "copy-hans"]  # by date
    assert {v["id"] for v in found["opensearch"]["related"]} == {v["id"] for v in found["whoosh"]["related"]}
    other = engines["opensearch"].similar("copy-en")
    assert {item["id"] for item in other["versions"]} == COPIES - {"copy-en"}


def test_versions_and_related_are_listed_with_the_same_titles_dates_and_sources_on_both(engines):
    """OpenSearch lists them from doc values (``LISTING_FIELDS``), Whoosh from stored fields."""

    def by_id(items) -> dict[str, dict]:
        return {item["id"]: {key: value for key, value in item.items() if key != "score"} for item in items}

    for query in QUERIES:
        listed = {}
        for backend, engine in engines.items():
            listed[backend] = {hit.id: by_id(hit.duplicates or []) for hit in engine.search(query, size=20).hits}
        assert listed["opensearch"] == listed["whoosh"], query
    similar = {backend: engine.similar(SEED_ID) for backend, engine in engines.items()}
    for part in ("versions", "related"):
        assert by_id(similar["opensearch"][part]) == by_id(similar["whoosh"][part]), part
    copy = by_id(similar["opensearch"]["versions"])["copy-en"]
    assert copy["title"]["en"] and copy["date"] and copy["source"], copy


def late_copy(seed) -> dict:
    return {"id": "copy-hant-late", "title": seed["title"], "body": seed["body"] + " 會晤後雙方共同會見記者。",
            "date": "2024-10-24T08:00:00+08:00", "source": "繁體轉載"}


def test_groups_survive_a_second_run_and_follow_replacements_and_deletions(request, tmp_path):
    """A copy indexed in a later run joins the story (the state is rebuilt from the index); a
    replaced article leaves it, a deleted one is gone from it: the same on both backends."""
    from tests.dupdata import seed_article

    seed = seed_article()
    seed_row = {"title": seed.title["zh"], "body": seed.body["zh"]}
    rows = records()
    configs = {backend: fresh_config(backend, request, tmp_path / backend) for backend in BACKENDS}
    changed = [dict(r) for r in rows if r["id"] != "copy-hans"]
    for row in changed:
        if row["id"] == "copy-en-corrected":
            row["title"], row["body"] = "Wheat exports rise", "Wheat exports rose sharply in October as farmers sold their harvest early."
    runs = []
    for given, prune in ((rows, False), ([*rows, late_copy(seed_row)], False), ([*changed, late_copy(seed_row)], True)):
        data = write_data(tmp_path, given)  # the same file, rewritten: a copy added, one replaced, one removed
        for config in configs.values():
            index(config, data, prune=prune)
        runs.append({backend: stored_groups(config) for backend, config in configs.items()})
    for groups in runs:
        assert groups["whoosh"] == groups["opensearch"]
    assert frozenset(COPIES) in runs[0]["opensearch"]
    assert frozenset({*COPIES, "copy-hant-late"}) in runs[1]["opensearch"]
    assert frozenset({SEED_ID, "copy-en", "copy-hant-late"}) in runs[2]["opensearch"]
    assert frozenset({"copy-en-corrected"}) in runs[2]["opensearch"]
    engine = Engine(config=configs["opensearch"])
    try:
        assert {v["id"] for v in engine.similar(SEED_ID)["versions"]} == {"copy-en", "copy-hant-late"}
    finally:
        engine.close()


def test_without_grouping_every_article_is_its_own_story(request, tmp_path):
    config = fresh_config("opensearch", request, tmp_path)
    index(config, write_data(tmp_path, records()), dedup=False)
    assert all(len(group) == 1 for group in stored_groups(config))
    engine = Engine(config=config)
    try:
        result = engine.search("習近平 普京 會晤", size=20)
        assert COPIES <= {hit.id for hit in result.hits} and result.groups == result.total
        assert all(hit.to_dict()["duplicates"]["count"] == 0 for hit in result.hits)
    finally:
        engine.close()


def test_a_story_with_more_versions_than_are_listed_counts_them_all_on_both(request, tmp_path, monkeypatch):
    """60 copies of one story (one day) and 3 of another: the first 50 other versions listed and
    all counted, the same on both backends, whether OpenSearch's one list of versions holds every
    match (two stories on the page: 102 places) or not (the big story alone: 51 places for 60
    versions, asked again per story)."""
    from search.backends.opensearch import groups as os_groups

    rows = [{"id": f"big-{n:02d}", "title": "Cocoa harvest in Bahia rises again", "body": "Cocoa farmers in Bahia expect a larger harvest this season.",
             "date": "2024-03-05T08:00:00+00:00", "source": "Wire"} for n in range(60)]
    rows += [{"id": f"small-{n}", "title": "Cocoa prices fall in London", "body": "Cocoa futures fell in London on Monday as supply worries eased.",
              "date": f"2024-04-0{1 + n}T08:00:00+00:00", "source": "Wire"} for n in range(3)]
    data = tmp_path / "data"
    data.mkdir()
    (data / "many.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    whole_lists = []
    real = os_groups.flat_members
    monkeypatch.setattr(os_groups, "flat_members", lambda answer: whole_lists.append(real(answer) is not None) or real(answer))
    found = {}
    for backend in BACKENDS:
        config = fresh_config(backend, request, tmp_path / backend)
        index(config, str(data))
        engine = Engine(config=config)
        try:
            found[backend] = [[(hit.id, hit.duplicate_count, tuple(hit.to_dict()["duplicates"]["ids"])) for hit in engine.search(q, size=size).hits]
                              for q, size in (("cocoa bahia", 1), ("cocoa", 2))]
        finally:
            engine.close()
    assert whole_lists == [False, True]  # size 1: asked again per story; size 2: one list
    assert found["whoosh"] == found["opensearch"]
    for page in found["opensearch"]:
        big = next(hit for hit in page if hit[0].startswith("big-"))
        assert big[1] == 59 and big[2] == tuple(f"big-{n:02d}" for n in range(60) if f"big-{n:02d}" != big[0])[:50]
        if len(page) == 2:
            assert next(hit for hit in page if hit[0].startswith("small-"))[1:] == (2, ("small-1", "small-2"))
