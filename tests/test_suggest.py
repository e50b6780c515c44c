"""Suggestions as you type: ``search/suggest.py`` and ``GET /api/suggest``."""

from __future__ import annotations

import pytest

from tests.dailydata import build_daily_index
from tests.webdata import web_app


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with web_app(build_daily_index(tmp_path_factory.mktemp("suggest"))) as app:
        yield app


def _suggest(client, q, **extra):
    response = client.get("/api/suggest", query_string={"q": q, **extra})
    assert response.status_code == 200
    return response.get_json()["suggestions"]


def test_both_scripts_find_the_same_words_shown_as_typed(client):
    simplified = _suggest(client, "习")
    traditional = _suggest(client, "習")
    assert [s["type"] for s in simplified] == [s["type"] for s in traditional]
    assert any(s["type"] == "speaker" and s["text"] == "习近平" and s["names"]["en"] == "Xi Jinping" for s in simplified)
    assert any(s["type"] == "speaker" and s["text"] == "習近平" for s in traditional)
    assert {s["type"] for s in simplified} >= {"speaker", "title"}


def test_english_finds_people_words_and_titles(client):
    found = _suggest(client, "Li", limit=20)
    assert any(s["type"] == "speaker" and s["id"] == "li-qiang" for s in found)
    words = _suggest(client, "coop")
    assert words[0] == {"type": "term", "text": "cooperation", "lang": "en", "count": words[0]["count"]}
    titles = [s for s in _suggest(client, "bahia") if s["type"] == "title"]
    assert titles == [{"type": "title", "text": "BAHIA COCOA REVIEW", "lang": "en", "id": "wire-cocoa-1"}]


def test_limit_and_empty(client):
    assert len(_suggest(client, "金", limit=3)) == 3
    assert _suggest(client, "") == [] and _suggest(client, "   ") == []
    assert _suggest(client, "zzzzqqq") == []


@pytest.mark.parametrize("query, param", [("limit=0", "limit"), ("limit=21", "limit"), ("q=" + "x" * 101, "q"), ("prefix=a", "prefix")])
def test_bad_parameters(client, query, param):
    response = client.get("/api/suggest?" + query)
    assert response.status_code == 400 and response.get_json()["error"]["param"] == param
