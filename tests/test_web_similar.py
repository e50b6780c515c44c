"""Collapsed results and /api/articles/<id>/similar over a real index of copies (tests/dupdata.py)."""

from __future__ import annotations

import json

import pytest

from tests.dupdata import COPIES, SEED_ID, dup_web_app
from tests.test_web_api import assert_error, validate

@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with dup_web_app(tmp_path_factory, "dup-web") as app:
        yield app


@pytest.fixture(scope="module")
def spec(app):
    return app.test_client().get("/openapi.json").get_json()


def test_api_collapses_copies_in_two_scripts_into_one_hit(client, spec):
    body = validate(spec, "/api/search", client.get("/api/search", query_string={"q": "習近平 普京 會晤", "size": 20}))
    shown = [hit for hit in body["hits"] if hit["id"] in COPIES]
    assert len(shown) == 1
    assert {shown[0]["id"], *shown[0]["duplicates"]["ids"]} == COPIES
    assert body["collapse"] is True and body["total_groups"] == len(body["hits"]) < body["total"]


def test_api_collapse_false_shows_both(client, spec):
    body = validate(spec, "/api/search", client.get("/api/search", query_string={"q": "習近平 普京 會晤", "size": 20, "collapse": "false"}))
    assert COPIES <= {hit["id"] for hit in body["hits"]}
    assert body["collapse"] is False and len(body["hits"]) == body["total"]


def test_an_export_shows_each_story_once_and_says_how_many_rows_come(client):
    for collapse in ("true", "false"):
        response = client.get("/api/export", query_string={"q": "習近平 普京 會晤", "format": "jsonl", "collapse": collapse})
        ids = [json.loads(line)["id"] for line in response.get_data(as_text=True).splitlines()]
        assert int(response.headers["X-Export-Count"]) == len(ids) and len(set(ids)) == len(ids)
        assert len(COPIES & set(ids)) == (1 if collapse == "true" else len(COPIES))
        assert int(response.headers["X-Total-Count"]) >= len(ids)


def test_api_refuses_a_bad_collapse_value(client):
    assert_error(client.get("/api/search", query_string={"q": "普京", "collapse": "maybe"}), 400, "collapse")


def test_similar_endpoint_lists_versions_and_related(client, spec):
    body = validate(spec, "/api/articles/{id}/similar", client.get(f"/api/articles/{SEED_ID}/similar"))
    assert {"copy-hans", "copy-en"} <= {item["id"] for item in body["versions"]}
    related = [item["id"] for item in body["related"]]
    assert "related-en" in related and "related-zh" in related and not COPIES & set(related)
    limited = validate(spec, "/api/articles/{id}/similar", client.get(f"/api/articles/{SEED_ID}/similar", query_string={"limit": 1}))
    assert len(limited["related"]) == 1


def test_similar_endpoint_errors(client, spec):
    validate(spec, "/api/articles/{id}/similar", client.get("/api/articles/no-such/similar"))
    assert_error(client.get("/api/articles/no-such/similar"), 404, "id", code="not_found")
    assert_error(client.get(f"/api/articles/{SEED_ID}/similar", query_string={"limit": 0}), 400, "limit")
    assert_error(client.get(f"/api/articles/{SEED_ID}/similar", query_string={"limt": 3}), 400, "limt")


def test_the_article_itself_is_still_served(client):
    assert client.get(f"/api/articles/{SEED_ID}").get_json()["id"] == SEED_ID
