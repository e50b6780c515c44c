"""The whole JSON API through Flask's test client, checked against its own OpenAPI document."""

from __future__ import annotations

import json
import os

import jsonschema
import pytest

from search.filters import PARAMS as FILTER_PARAMS
from search.backends.whoosh.store import versions
from tests.webdata import SEED_ID, SEED_TITLE, SERIES, build_web_index, speaker_filter_works, web_app
from web import export, feeds, similar, suggest
from web.api import ENDPOINT_PARAMS, SEARCH_PARAMS, SPEAKER_PARAMS

#: Blueprints whose routes the OpenAPI document describes, and what each route accepts.
DOCUMENTED = ("api", "suggest", "export", "feeds", "similar")
ALL_PARAMS = {**ENDPOINT_PARAMS, **suggest.ENDPOINT_PARAMS, **export.ENDPOINT_PARAMS, **feeds.ENDPOINT_PARAMS, **similar.ENDPOINT_PARAMS}


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    return build_web_index(tmp_path_factory.mktemp("web-api"))


@pytest.fixture(scope="module")
def app(index_dir):
    with web_app(index_dir) as app:
        yield app


@pytest.fixture(scope="module")
def spec(app):
    return app.test_client().get("/openapi.json").get_json()


def schema_for(spec: dict, path: str, status: int) -> dict:
    """The documented JSON schema of ``path``'s response with ``status`` (errors: the Error schema)."""
    responses = spec["paths"][path]["get"]["responses"]
    response = responses.get(str(status)) or {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    schema = dict(response["content"]["application/json"]["schema"])
    schema["components"] = spec["components"]  # so "#/components/..." resolves from this root
    return schema


def validate(spec: dict, path: str, response) -> dict:
    assert response.mimetype == "application/json"
    body = response.get_json()
    validator = jsonschema.Draft202012Validator(schema_for(spec, path, response.status_code), format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    assert not errors, f"{path} {response.status_code}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    return body


def assert_error(response, status, param, code="invalid_parameter"):
    assert response.status_code == status
    body = response.get_json()
    assert body == {"error": {"code": code, "message": body["error"]["message"], "param": param}}
    assert body["error"]["message"]
    return body["error"]


# --- the OpenAPI document --------------------------------------------------------------------------


def test_openapi_document_is_3_1_with_valid_schemas(client, spec):
    response = client.get("/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert spec["openapi"] == "3.1.0"
    assert spec["info"]["title"] and spec["info"]["version"]
    for name, schema in spec["components"]["schemas"].items():
        jsonschema.Draft202012Validator.check_schema(schema)
    for path, item in spec["paths"].items():
        for param in item["get"].get("parameters", []):
            jsonschema.Draft202012Validator.check_schema(param["schema"])
            assert param["description"], f"{path} {param['name']} has no description"
        for status, response in item["get"]["responses"].items():
            assert status.isdigit() and response["description"]


def test_every_route_is_documented_and_nothing_else(app, spec):
    routes = {rule.rule.replace("<path:article_id>", "{id}") for rule in app.url_map.iter_rules() if rule.endpoint.split(".")[0] in DOCUMENTED}
    assert routes == set(ALL_PARAMS) == set(spec["paths"])


def test_every_accepted_parameter_is_documented(spec):
    for path, accepted in ALL_PARAMS.items():
        documented = [p["name"] for p in spec["paths"][path]["get"].get("parameters", []) if p["in"] == "query"]
        assert documented == list(accepted), path
    assert set(FILTER_PARAMS) <= set(SEARCH_PARAMS)
    assert SPEAKER_PARAMS == ("prefix", "limit")


def test_documented_enum_and_range_values_are_what_the_code_accepts(client, spec):
    for path in ("/api/search", "/api/speakers"):
        for param in spec["paths"][path]["get"]["parameters"]:
            schema, name = param["schema"], param["name"]
            base = {"q": "普京"} if path == "/api/search" else {}
            for value in schema.get("enum", []):
                assert client.get(path, query_string={**base, name: value}).status_code == 200, (name, value)
            if "enum" in schema:
                assert_error(client.get(path, query_string={**base, name: "nonsense"}), 400, name)
            if schema.get("type") == "integer":
                low, high = schema["minimum"], schema.get("maximum")
                assert client.get(path, query_string={**base, name: low}).status_code == 200, (name, low)
                assert_error(client.get(path, query_string={**base, name: low - 1}), 400, name)
                if high is not None:
                    assert client.get(path, query_string={**base, name: high}).status_code == 200, (name, high)
                    assert_error(client.get(path, query_string={**base, name: high + 1}), 400, name)
            if schema.get("type") == "boolean":
                for value in ("true", "false"):
                    assert client.get(path, query_string={**base, name: value}).status_code == 200
            if "maxLength" in schema:
                assert_error(client.get(path, query_string={**base, name: "x" * (schema["maxLength"] + 1)}), 400, name)


LIVE_REQUESTS = [
    ("/api/search", "/api/search", {"q": "普京"}),
    ("/api/search", "/api/search", {"q": "習近平 Putin", "size": 2, "page": 2, "sort": "date", "lang": "zh", "translate": "false"}),
    ("/api/search", "/api/search", {"q": "普京", "from": "2022-01-01", "to": "2022-12-31", "speaker": "普京"}),
    ("/api/search", "/api/search", {"q": "zzzqqq"}),
    ("/api/search", "/api/search", {"q": '"unbalanced'}),
    ("/api/search", "/api/search", {"q": "title:普京 -合作"}),
    ("/api/search", "/api/search", {"q": ""}),
    ("/api/search", "/api/search", {"q": "普京", "from": "2022-13-01"}),
    ("/api/search", "/api/search", {"q": "普京", "nope": "1"}),
    ("/api/articles/{id}", f"/api/articles/{SEED_ID}", {}),
    ("/api/articles/{id}", "/api/articles/speaker-putin-1", {}),
    ("/api/articles/{id}", "/api/articles/unsafe-1", {}),
    ("/api/articles/{id}", "/api/articles/missing-article", {}),
    ("/api/articles/{id}", f"/api/articles/{SEED_ID}", {"x": "1"}),
    ("/api/speakers", "/api/speakers", {}),
    ("/api/speakers", "/api/speakers", {"prefix": "put", "limit": 3}),
    ("/api/speakers", "/api/speakers", {"prefix": "no-such-person"}),
    ("/api/speakers", "/api/speakers", {"limit": "many"}),
    ("/api/stats", "/api/stats", {}),
    ("/api/stats", "/api/stats", {"verbose": "1"}),
    ("/healthz", "/healthz", {}),
    ("/openapi.json", "/openapi.json", {}),
]


@pytest.mark.parametrize("documented, url, params", LIVE_REQUESTS, ids=[f"{u}?{json.dumps(p, ensure_ascii=False)}" for _, u, p in LIVE_REQUESTS])
def test_live_responses_match_the_document(client, spec, documented, url, params):
    response = client.get(url, query_string=params)
    assert str(response.status_code) in spec["paths"][documented]["get"]["responses"], response.status_code
    validate(spec, documented, response)


@pytest.mark.parametrize("path", ["/api/search?q=%E6%99%AE%E4%BA%AC", "/api/articles/x", "/api/speakers", "/api/stats", "/healthz"])
def test_missing_index_matches_the_document(tmp_path, spec, path):
    with web_app(tmp_path / "none") as app:
        response = app.test_client().get(path)
    assert_error(response, 503, "index", code="index_missing")
    documented = path.split("?")[0].replace("/api/articles/x", "/api/articles/{id}")
    validate(spec, documented, response)


# --- /api/search with filters ----------------------------------------------------------------------


def search(client, **params):
    response = client.get("/api/search", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_date_range_filter_is_inclusive(client):
    body = search(client, q="普京", **{"from": "2022-03-01", "to": "2023-02-01"}, size=100)
    assert body["filters"] == {"from": "2022-03-01", "to": "2023-02-01"}
    dates = [h["date"][:10] for h in body["hits"]]
    assert dates and all("2022-03-01" <= d <= "2023-02-01" for d in dates)
    assert {"speaker-putin-1", "speaker-both-1"} <= {h["id"] for h in body["hits"]}
    assert body["total"] == len(body["hits"])


def test_language_filter(client):
    everything = search(client, q="cooperation", size=100)
    english_only = {h["id"] for h in everything["hits"] if not h["title"]["zh"] and not any(h["snippets"]["zh"])}
    zh = search(client, q="cooperation", lang="zh", size=100)
    assert zh["filters"] == {"lang": "zh"}
    assert not english_only & {h["id"] for h in zh["hits"]}
    assert "unsafe-1" in {h["id"] for h in search(client, q="cooperation", lang="en", size=100)["hits"]}
    assert search(client, q="cooperation", lang="both", size=100)["total"] == everything["total"]


def test_sort_by_date_is_newest_first(client):
    body = search(client, q="普京", sort="date", size=100)
    assert body["sort"] == "date"
    dates = [h["date"] for h in body["hits"] if h["date"]]
    assert dates == sorted(dates, key=lambda d: d[:10], reverse=True)
    assert body["hits"][0]["id"] == SEED_ID  # 2024-10-23, the newest


def test_facets_count_years_and_speakers_over_all_matches(client):
    body = search(client, q="普京", size=1)
    years = body["facets"]["years"]
    assert sum(y["count"] for y in years) == body["total"]
    assert {"year": 2022, "count": 2} in years  # series-22 and speaker-putin-1
    speakers = {s["id"]: s for s in body["facets"]["speakers"]}
    assert "vladimir-putin" in speakers
    assert speakers["vladimir-putin"]["names"] == {"zh": "普京", "en": "Vladimir Putin"}
    assert speakers["vladimir-putin"]["count"] >= 2


def test_hits_carry_their_speakers(client):
    hit = next(h for h in search(client, q="通电话")["hits"] if h["id"] == "speaker-both-1")
    assert {s["id"] for s in hit["speakers"]} == {"xi-jinping", "vladimir-putin"}


def test_speaker_filter_keeps_only_articles_quoting_that_person(client, index_dir):
    if not speaker_filter_works(index_dir):
        pytest.skip("the engine does not resolve speaker names yet")
    for name in ("普京", "Putin", "Vladimir Putin"):
        body = search(client, q="*", speaker=name, size=100)
        assert body["filters"]["speaker"] == name
        ids = {h["id"] for h in body["hits"]}
        assert {"speaker-putin-1", "speaker-both-1"} <= ids
        assert "speaker-xi-1" not in ids and "en-only-1" not in ids
        assert all("vladimir-putin" in {s["id"] for s in h["speakers"]} for h in body["hits"])
    xi = {h["id"] for h in search(client, q="*", speaker="習近平", size=100)["hits"]}
    assert {"speaker-xi-1", "speaker-both-1"} <= xi and "speaker-putin-1" not in xi


@pytest.mark.parametrize(
    "params, param",
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2024-02-30"}, "to"),
        ({"from": "2024-02-01", "to": "2024-01-01"}, "from"),
        ({"lang": "fr"}, "lang"),
        ({"sort": "score"}, "sort"),
        ({"translate": "maybe"}, "translate"),
        ({"speaker": "x" * 101}, "speaker"),
        ({"Speaker": "普京"}, "Speaker"),
    ],
)
def test_bad_filters_are_400_naming_the_parameter(client, params, param):
    assert_error(client.get("/api/search", query_string={"q": "普京", **params}), 400, param)


def test_empty_speaker_means_no_filter(client):
    body = search(client, q="普京", speaker="")
    assert body["filters"] == {} and body["sort"] == "relevance"
    assert body["total"] == search(client, q="普京")["total"]


@pytest.mark.parametrize("name", ["from", "to", "lang", "sort", "translate"])
def test_empty_values_outside_the_documented_ones_are_refused(client, name):
    assert_error(client.get("/api/search", query_string={"q": "普京", name: ""}), 400, name)


# --- /api/articles -------------------------------------------------------------------------------------


def test_article_has_captions_speakers_and_dateline(client):
    body = client.get("/api/articles/speaker-putin-1").get_json()
    assert body["captions"] == {"zh": "普京在克里姆林宫讲话。", "en": "Putin speaks at the Kremlin."}
    assert body["dateline"] == "新華社莫斯科3月1日電"
    assert body["url"] == "https://news.example/putin-moscow"
    assert [s["id"] for s in body["speakers"]] == ["vladimir-putin"]
    assert body["speakers"][0]["names"] == {"zh": "普京", "en": "Vladimir Putin"}


def test_article_text_is_returned_as_stored_not_escaped(client):
    body = client.get("/api/articles/unsafe-1").get_json()
    assert body["title"]["en"] == OTHERS_TITLE
    assert body["url"] == "javascript:alert(1)"  # data, as stored; the HTML page never links it


OTHERS_TITLE = "<script>alert('title')</script> Markets & <b>trade</b>"


def test_seed_article_by_id(client):
    body = client.get(f"/api/articles/{SEED_ID}").get_json()
    assert body["title"]["zh"] == SEED_TITLE
    assert body["captions"] == {"zh": None, "en": None} or isinstance(body["captions"]["zh"], str)


def test_unknown_article_is_404(client):
    error = assert_error(client.get("/api/articles/does-not-exist"), 404, "id", code="not_found")
    assert "does-not-exist" in error["message"]


def test_article_endpoint_refuses_parameters(client):
    assert_error(client.get(f"/api/articles/{SEED_ID}", query_string={"q": "x"}), 400, "q")


# --- /api/speakers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["put", "Put", "vlad", "普", "普京", "Vladimir P"])
def test_speakers_autocomplete_finds_putin_by_any_name(client, prefix):
    body = client.get("/api/speakers", query_string={"prefix": prefix}).get_json()
    assert body["prefix"] == prefix
    assert "vladimir-putin" in [s["id"] for s in body["speakers"]]


@pytest.mark.parametrize("prefix", ["习", "習", "習近", "xi", "Xi Jin"])
def test_speakers_autocomplete_works_in_either_script(client, prefix):
    body = client.get("/api/speakers", query_string={"prefix": prefix}).get_json()
    found = {s["id"]: s for s in body["speakers"]}
    assert "xi-jinping" in found
    assert found["xi-jinping"]["names"]["en"] == "Xi Jinping"
    assert found["xi-jinping"]["count"] >= 2


def test_speakers_without_prefix_suggest_nothing(client):
    assert client.get("/api/speakers").get_json() == {"prefix": "", "speakers": []}
    assert client.get("/api/speakers", query_string={"prefix": "  "}).get_json() == {"prefix": "", "speakers": []}


def test_speakers_are_most_quoted_first_and_limited(client):
    speakers = client.get("/api/speakers", query_string={"prefix": "普"}).get_json()["speakers"]
    counts = [s["count"] for s in speakers]
    assert counts == sorted(counts, reverse=True)
    assert len(client.get("/api/speakers", query_string={"prefix": "普", "limit": 1}).get_json()["speakers"]) == 1


def test_speakers_unknown_prefix_is_an_empty_list(client):
    assert client.get("/api/speakers", query_string={"prefix": "zzzz"}).get_json() == {"prefix": "zzzz", "speakers": []}


@pytest.mark.parametrize("params, param", [({"limit": "0"}, "limit"), ({"limit": "51"}, "limit"), ({"limit": "x"}, "limit"), ({"limit": "-1"}, "limit"), ({"prefix": "p" * 101}, "prefix"), ({"q": "x"}, "q")])
def test_speakers_bad_parameters(client, params, param):
    assert_error(client.get("/api/speakers", query_string=params), 400, param)


# --- /api/stats and /healthz ---------------------------------------------------------------------------


def test_stats_counts_articles_by_language_and_year(client, index_dir):
    stats = client.get("/api/stats").get_json()
    total = client.get("/healthz").get_json()["articles"]
    assert stats["articles"] == total == 1 + len(SERIES) + 2 + 3
    assert stats["languages"]["en"] == total  # every test article has English text
    assert stats["languages"]["zh"] == total - 2  # but for the two English-only ones
    assert sum(y["count"] for y in stats["years"]) + stats["undated"] == total
    assert stats["undated"] == 1
    years = [y["year"] for y in stats["years"]]
    assert years == sorted(years, reverse=True) and years[0] == 2024 and years[-1] == 2001
    assert {"year": 2022, "count": 3} in stats["years"]  # series-22 and two speaker articles
    on_disk = sum(os.path.getsize(os.path.join(index_dir, f)) for f in os.listdir(index_dir) if os.path.isfile(os.path.join(index_dir, f)))
    assert stats["index_bytes"] == on_disk > 0
    assert stats["analyzer_version"] == versions()["analyzer_version"]
    assert stats["schema_version"] == versions()["schema_version"]


def test_healthz(client):
    body = client.get("/healthz").get_json()
    assert body == {"status": "ok", "articles": 30}


def test_healthz_refuses_parameters(client):
    assert_error(client.get("/healthz", query_string={"x": "1"}), 400, "x")


# --- HTTP details --------------------------------------------------------------------------------------


def test_cors_is_off_by_default(client):
    response = client.get("/api/search", query_string={"q": "普京"}, headers={"Origin": "https://elsewhere.example"})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_can_be_allowed_for_configured_origins(index_dir):
    with web_app(index_dir, CORS_ORIGINS=["https://app.example"]) as app:
        client = app.test_client()
        allowed = client.get("/api/stats", headers={"Origin": "https://app.example"})
        other = client.get("/api/stats", headers={"Origin": "https://evil.example"})
        page = client.get("/", headers={"Origin": "https://app.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "Origin" in allowed.headers.get("Vary", "")
    assert "Access-Control-Allow-Origin" not in other.headers
    assert "Access-Control-Allow-Origin" not in page.headers


@pytest.mark.parametrize("url", ["/api/speakers?prefix=%E6%99%AE", "/openapi.json", "/api/articles/speaker-xi-1"])
def test_json_is_utf8_with_real_characters(client, url):
    response = client.get(url)
    assert response.headers["Content-Type"] == "application/json"
    text = response.get_data().decode("utf-8")
    assert "\\u" not in text
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_other_methods_are_405_in_the_error_shape(client, method):
    response = getattr(client, method)("/api/speakers")
    assert_error(response, 405, None, code="method_not_allowed")
