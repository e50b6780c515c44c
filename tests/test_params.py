"""Strict parameters (``web/params.py``) on the JSON API and the HTML page, and the HTTP
semantics around them: redirects, 405 with ``Allow``, HEAD and OPTIONS, bounded pages."""

from __future__ import annotations

import pytest

from tests.webdata import web_app
from web.openapi import document


@pytest.fixture(scope="module")
def app(seed_index):
    with web_app(seed_index) as app:
        yield app


def api_error(client, query: str, param: str) -> str:
    response = client.get("/api/search?" + query)
    assert response.status_code == 400, (query, response.status_code)
    body = response.get_json()
    assert body["error"]["code"] == "invalid_parameter"
    assert body["error"]["param"] == param
    return body["error"]["message"]


# Digits int() reads differently or not at all: ², ¹², ①, ₃ made a 500; ٣, ３, 𝟙 were read as 3, 3, 1.
NOT_ASCII = ["%C2%B2", "%C2%B9%C2%B2", "%E2%91%A0", "%E2%82%83", "%D9%A3", "%EF%BC%93", "%F0%9D%9F%99"]


@pytest.mark.parametrize("name", ["size", "page"])
@pytest.mark.parametrize("value", NOT_ASCII + ["%2B3", "-1", "3.0", "0x10", "1e3", "%E3%80%803", "", "1_0"])
def test_api_integers_are_ascii_digits_only(client, name, value):
    message = api_error(client, f"q=oil&{name}={value}", name)
    assert name in message


@pytest.mark.parametrize("name", ["size", "page"])
@pytest.mark.parametrize("value", NOT_ASCII[:4] + ["x", "-1"])
def test_html_page_integers_are_ascii_digits_only(client, name, value):
    response = client.get(f"/?q=oil&{name}={value}")
    assert response.status_code == 400
    assert f"{name} must be a whole number" in response.get_data(as_text=True)


def test_speaker_limit_is_ascii_digits_only(client):
    response = client.get("/api/speakers?prefix=Pu&limit=%EF%BC%93")
    assert response.status_code == 400 and response.get_json()["error"]["param"] == "limit"


@pytest.mark.parametrize("query, param", [("q=oil&page=7255180487", "page"), ("q=oil&size=101", "size"), ("q=oil&page=" + "9" * 5000, "page")])
def test_too_large_says_too_large(client, query, param):
    message = api_error(client, query, param)
    assert "too large" in message and len(message) < 200


def test_integer_maximums_are_documented():
    params = {p["name"]: p["schema"] for p in document()["paths"]["/api/search"]["get"]["parameters"]}
    assert params["size"]["maximum"] == 100
    assert params["page"]["maximum"] == 10_000
    limit = {p["name"]: p["schema"] for p in document()["paths"]["/api/speakers"]["get"]["parameters"]}["limit"]
    assert limit["maximum"] == 50


def test_leading_zeros_and_largest_values_are_accepted(client):
    assert client.get("/api/search?q=oil&size=007&page=0001").get_json()["size"] == 7
    assert client.get("/api/search?q=oil&size=100&page=100").status_code == 200


@pytest.mark.parametrize("query, param", [("q=oil&q=trade", "q"), ("q=oil&size=1&size=2", "size"), ("q=oil&lang=zh&lang=en", "lang")])
def test_repeated_parameters_are_refused(client, query, param):
    assert "given 2 times" in api_error(client, query, param)


def test_repeated_parameters_are_refused_on_the_page(client):
    response = client.get("/?q=oil&q=trade")
    assert response.status_code == 400 and "given 2 times" in response.get_data(as_text=True)
    assert client.get("/articles/xi-only-1?script=hans&script=hant").status_code == 400


@pytest.mark.parametrize("query, param", [("q=oil&lang=", "lang"), ("q=oil&lang=all", "lang"), ("q=oil&lang=ZH", "lang"), ("q=oil&sort=", "sort"), ("q=oil&sort=Date", "sort"), ("q=oil&translate=", "translate"), ("q=oil&from=", "from")])
def test_enums_accept_exactly_the_documented_values(client, query, param):
    api_error(client, query, param)


def test_documented_enum_values_are_accepted(client):
    params = {p["name"]: p["schema"] for p in document()["paths"]["/api/search"]["get"]["parameters"]}
    for name in ("lang", "sort"):
        for value in params[name]["enum"]:
            assert client.get("/api/search", query_string={"q": "oil", name: value}).status_code == 200


def test_html_page_treats_blank_form_fields_as_unset_but_refuses_all(client):
    assert client.get("/?q=oil&from=&to=&speaker=&lang=&sort=&size=&page=").status_code == 200
    assert client.get("/?q=oil&lang=all").status_code == 400


# --- HTTP semantics ---------------------------------------------------------------------------------


def test_redirects_never_take_their_host_from_the_request(client):
    response = client.get("/api/articles//xi-only-1", headers={"Host": "evil.example"})
    assert 300 <= response.status_code < 400
    assert response.headers["Location"] == "/api/articles/xi-only-1"
    assert "evil" not in response.headers["Location"]


@pytest.mark.parametrize("path", ["/api/search?q=x", "/healthz", "/", "/articles/xi-only-1", "/openapi.json"])
def test_405_carries_allow(client, path):
    response = client.post(path)
    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert {"GET", "HEAD", "OPTIONS"} <= allowed and "POST" not in allowed


@pytest.mark.parametrize("path", ["/api/search?q=oil", "/healthz", "/?q=oil", "/api/articles/xi-only-1", "/api/search?q=oil&size=0"])
def test_head_has_the_headers_of_get_and_no_body(client, path):
    get, head = client.get(path), client.head(path)
    assert head.status_code == get.status_code
    assert head.data == b""
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    if "q=oil" in path and get.status_code == 200:  # the time taken is in the body: its length varies by a digit
        assert abs(int(head.headers["Content-Length"]) - int(get.headers["Content-Length"])) < 8
    else:
        assert head.headers["Content-Length"] == get.headers["Content-Length"]


@pytest.mark.parametrize("path", ["/api/search", "/healthz", "/"])
def test_options_lists_the_allowed_methods(client, path):
    response = client.options(path)
    assert response.status_code == 200
    assert {"GET", "HEAD", "OPTIONS"} <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_html_page_size_is_bounded_for_any_query_length(client):
    # The page repeats the query in its links (facets, timeline, feed, export): it echoes at
    # most the characters the engine reads, so past that length the page stops growing.
    small = len(client.get("/", query_string={"q": "普京 " * 10}).data)
    for word, times in (("普京 ", 30_000), ("oil ", 25_000)):  # ~100 KB
        sizes = []
        for q in (word * (times // 2), word * times):
            response = client.get("/", query_string={"q": q})
            assert response.status_code == 200
            sizes.append(len(response.data))
        assert sizes[1] < 1_000_000, sizes
        assert abs(sizes[1] - sizes[0]) < 2_000, sizes  # twice the query, the same page (a digit of timing varies)
    assert small < 100_000
