from __future__ import annotations

import numpy as np
import pytest

from search.collapse import Groups
from search.filters import SearchFilters
from search.searcher import Engine
from tests.dupdata import SEED_ID, build


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Engine:
    return Engine(build(tmp_path_factory.mktemp("dupdata"), str(tmp_path_factory.mktemp("dupindex"))))


def _ids(result) -> list[str]:
    return [hit.id for hit in result.hits]


def test_copies_in_two_scripts_collapse_into_one_hit_with_both_ids(engine):
    result = engine.search("習近平 普京 會晤", size=20)
    copies = {SEED_ID, "copy-hans", "copy-en", "copy-en-corrected"}
    shown = [hit for hit in result.hits if hit.id in copies]
    assert len(shown) == 1
    hit = shown[0]
    assert {hit.id, *hit.to_dict()["duplicates"]["ids"]} == copies
    assert hit.to_dict()["duplicates"]["count"] == 3
    assert result.groups < result.total
    assert result.to_dict()["total_groups"] == result.groups


def test_collapse_false_shows_every_article(engine):
    result = engine.search("習近平 普京 會晤", size=20, filters=SearchFilters(collapse=False))
    assert {SEED_ID, "copy-hans", "copy-en", "copy-en-corrected"} <= set(_ids(result))
    assert all("duplicates" not in hit.to_dict() for hit in result.hits)
    collapsed = engine.search("習近平 普京 會晤", size=20)
    assert collapsed.total == result.total and collapsed.groups == result.groups
    assert len(collapsed.hits) == result.groups


def test_the_same_wording_a_year_later_is_its_own_hit(engine):
    ids = _ids(engine.search("习近平同俄罗斯总统普京举行会晤", size=20))
    assert "copy-hans-next-year" in ids


def test_date_order_shows_each_group_by_its_earliest_article(engine):
    result = engine.search("Xi Jinping Kazan", size=20, filters=SearchFilters(sort="date", translate=False))
    shown = {hit.id for hit in result.hits} & {SEED_ID, "copy-hans", "copy-en", "copy-en-corrected"}
    assert shown == {"copy-en"}  # 2024-10-22 22:00 UTC, the earliest of the four


def test_facets_count_articles_not_groups(engine):
    result = engine.search("習近平 普京 會晤", size=20)
    assert sum(year["count"] for year in result.facets["years"]) == result.total


def test_similar_lists_the_copies_as_versions_and_other_stories_as_related(engine):
    found = engine.similar(SEED_ID)
    versions = {item["id"] for item in found["versions"]}
    related = [item["id"] for item in found["related"]]
    assert {"copy-hans", "copy-en"} <= versions
    assert not versions & set(related) and SEED_ID not in related
    assert "related-en" in related and "related-zh" in related
    assert related.index("related-en") < related.index("unrelated-en") if "unrelated-en" in related else True


def test_groups_count_and_collapse_arrays():
    groups = Groups.build(np.array([0, 1, 0, 2, 1]))
    matches = np.array([True, True, True, False, False])
    assert groups.count(matches) == 2
    firsts, scores = groups.collapse(np.array([2, 0, 1]), np.array([3.0, 2.0, 1.0]))
    assert firsts.tolist() == [2, 1] and scores.tolist() == [3.0, 1.0]
    rows = [groups.row(int(d), float(score), matches) for d, score in zip(firsts, scores)]
    assert [(r.docnum, r.score, r.others) for r in rows] == [(2, 3.0, [0]), (1, 1.0, [])]
    days = np.array([20241023, 0, 20241022, 0, 0])
    assert groups.row(2, 3.0, matches, days).docnum == 2
    assert groups.row(0, 3.0, matches, days) == groups.row(2, 3.0, matches, days)  # the earliest stands for its group
    empty = groups.collapse(np.zeros(0, dtype=np.int64), np.zeros(0))
    assert len(empty[0]) == len(empty[1]) == 0
