"""Hostile requests: property-based fuzzing of every route through Flask's test client.

The routes come from the app's own ``url_map``, so an endpoint added later is fuzzed too.
Each generated request (any method, random or hostile path arguments and query strings,
raw percent-encoded bytes, odd headers) must get: no 5xx, no traceback in the body, and on
the API (``/api/*``, ``/healthz``, ``/openapi.json``) every 4xx in the one error shape
``{"error": {"code", "message", "param"}}``. More than 5,000 requests in all (counted).

Then explicit worst cases for ``/api/search``: 10,000 characters, 1,000 terms, 5,000 nested
parentheses, control characters, lone surrogates and NUL bytes (percent-encoded), each
answered with 200 or 400, and with bounded work: the interpreted terms never exceed the
engine's caps.
"""

from __future__ import annotations

import json
import string
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.webdata import SEED_ID, build_web_index, web_app
from web import create_app, is_api_path

#: Routes as the app declares them (the index is not opened to list them).
RULES = sorted(
    (rule.rule, tuple(sorted(rule.arguments)))
    for rule in create_app({"INDEX_DIR": "unused-for-listing-routes"}).url_map.iter_rules()
)

#: Per-route budget of generated requests; /api/search and / (the search page) get more.
EXAMPLES = {"/api/search": 1500, "/": 600}
DEFAULT_EXAMPLES = 450
MIN_TOTAL = 5000

#: Caps the engine documents (README, "Query syntax"): words/phrases, analyzed terms, characters.
MAX_CLAUSES = 64
MAX_TERMS = 128
MAX_QUERY_CHARS = 2000

KNOWN_PARAMS = ["q", "size", "page", "from", "to", "speaker", "lang", "sort", "translate", "prefix", "limit", "script"]
METHODS = ["GET"] * 6 + ["HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]

COUNTS: dict[str, int] = {}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with web_app(build_web_index(tmp_path_factory.mktemp("fuzz"))) as app:
        yield app


# --- strategies --------------------------------------------------------------------------------

no_surrogates = st.characters(blacklist_categories=("Cs",))
HOSTILE_PIECES = [
    '"', "“", "”", "(", ")", "((", "))", "NOT ", " OR ", " AND ", "-", "*", "?", "~", "^", ":", "title:", "body:",
    "TITLE:", "captions:", "\\", "'", "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "javascript:alert(1)",
    "習近平", "习近平", "普京", "Putin", "Ｐｕｔｉｎ", "中俄關係", "一带一路", "\u200b", "\u202e", "\ufeff", "\x00", "\x1f", "\x7f",
    "\u2028", "😀", "👨‍👩‍👧", "Ω", "ǅ", "İ", "ß", "ﬁ", "%", "%25", "%00", "&", "=", "+", "#", "/", "..", "../..", "\t", "\n", " ",
    "0", "-1", "1e309", "NaN", "null", "true", "[]", "{}", "9" * 30,
]
hostile_text = st.one_of(
    st.text(no_surrogates, max_size=200),
    st.lists(st.sampled_from(HOSTILE_PIECES), max_size=40).map("".join),
    st.lists(st.one_of(st.sampled_from(HOSTILE_PIECES), st.text(no_surrogates, max_size=8)), max_size=30).map(" ".join),
)
number_like = st.one_of(
    st.integers(-(10**15), 10**15).map(str),
    st.sampled_from(["", " ", "0", "1", "10", "50", "51", "100", "101", "10000", "1.5", "1e3", "0x10", "+5", " 5 ", "٣", "１０", "-0", "00000000001"]),
    st.text(string.printable, max_size=12),
)
date_like = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["2024-02-30", "2024-13-01", "0000-01-01", "9999-12-31", "2024-1-1", "20240101", "2024-10-01T00:00:00Z", "yesterday"]),
    st.text(no_surrogates, max_size=20),
)
choice_like = st.one_of(
    st.sampled_from(["zh", "en", "both", "all", "ZH", "relevance", "date", "true", "false", "1", "0", "orig", "hans", "hant", ""]),
    st.text(no_surrogates, max_size=12),
)
VALUES = {"q": hostile_text, "speaker": hostile_text, "prefix": hostile_text, "size": number_like, "page": number_like, "limit": number_like, "from": date_like, "to": date_like}
value_for = lambda key: VALUES.get(key, st.one_of(choice_like, hostile_text))  # noqa: E731


@st.composite
def query_strings(draw) -> str:
    keys = draw(st.lists(st.one_of(st.sampled_from(KNOWN_PARAMS), st.text(no_surrogates, min_size=1, max_size=10)), max_size=6))
    pairs = [(key, draw(value_for(key))) for key in keys]
    query = urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)
    if draw(st.integers(0, 5)) == 0:  # raw bytes: invalid UTF-8, lone surrogates (ED A0 80), NUL
        raw = draw(st.binary(max_size=40))
        key = draw(st.sampled_from(KNOWN_PARAMS))
        query += ("&" if query else "") + key + "=" + "".join(f"%{b:02X}" for b in raw)
    if draw(st.integers(0, 20)) == 0:
        query += draw(st.sampled_from(["&", "&&", "=", "==", "&q", "%", "%G0", "%E4%B8", "q=%", ";q=x", "q=1&q=2"]))
    return query


@st.composite
def path_values(draw) -> str:
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return urllib.parse.quote(SEED_ID)
    if kind == 1:
        return "".join(f"%{b:02X}" for b in draw(st.binary(min_size=1, max_size=30)))
    value = draw(st.one_of(hostile_text, st.sampled_from(["app.js", "style.css", "../../etc/passwd", "..%2f..%2fsearch%2fcli.py", "%00", "a/b/c", "unsafe-1", "series-01"])))
    return urllib.parse.quote(value, safe="/%") or "x"


@st.composite
def requests(draw, rule: str, arguments: tuple[str, ...]) -> tuple[str, str, dict]:
    path = rule
    for name in arguments:
        path = path.replace(f"<path:{name}>", draw(path_values())).replace(f"<{name}>", draw(path_values()))
    query = draw(query_strings())
    headers = {}
    if draw(st.booleans()):
        headers["Origin"] = draw(st.sampled_from(["http://evil.example", "null", "http://127.0.0.1:8000", "\u00e9"]))
    if draw(st.integers(0, 4)) == 0:
        headers["Accept"] = draw(st.sampled_from(["text/html", "application/json", "*/*", "garbage/;;", ""]))
    return draw(st.sampled_from(METHODS)), path + ("?" + query if query else ""), headers


# --- the checks -----------------------------------------------------------------------------------


def check(response, method: str, url: str) -> None:
    body = response.get_data()
    where = f"{method} {url!r} -> {response.status_code}"
    assert response.status_code < 500, f"{where}: {body[:500]!r}"
    sent = urllib.parse.unquote(url, errors="replace")
    if "Traceback" not in sent:  # an id or query may be the word itself, echoed back
        assert b"Traceback (most recent call last)" not in body and b"Traceback" not in body, where
    assert b"werkzeug/debug" not in body and b'File "/' not in body, where
    path = urllib.parse.urlsplit(url).path
    if not is_api_path(urllib.parse.unquote(path)) or method in ("HEAD", "OPTIONS") or 300 <= response.status_code < 400:
        return  # pages are HTML; a redirect (``//`` merged into ``/``) has no JSON to check
    if urllib.parse.unquote(path) == "/api/export" and response.status_code == 200:
        assert response.mimetype in ("text/csv", "application/jsonl"), where  # an export is CSV or JSON Lines; its errors are JSON
        return
    assert response.mimetype == "application/json", where
    data = json.loads(body)
    if 400 <= response.status_code < 500:
        assert isinstance(data, dict) and set(data) == {"error"}, f"{where}: {data}"
        error = data["error"]
        assert set(error) == {"code", "message", "param"}, f"{where}: {data}"
        assert isinstance(error["code"], str) and error["code"], where
        assert isinstance(error["message"], str) and error["message"], where
        assert error["param"] is None or isinstance(error["param"], str), where
    if response.status_code == 200 and path == "/api/search":
        interpreted = data["interpreted"]
        assert sum(len(words) for words in interpreted["terms"].values()) <= MAX_TERMS, where


def send(client, method: str, url: str, headers: dict):
    return client.open(url, method=method, headers=headers)


@pytest.mark.parametrize("rule, arguments", RULES, ids=[rule for rule, _ in RULES])
def test_fuzz_route(app, rule, arguments):
    client = app.test_client()
    examples = EXAMPLES.get(rule, DEFAULT_EXAMPLES)
    sent = 0

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    @given(request=requests(rule, arguments))
    def fuzz(request):
        nonlocal sent
        method, url, headers = request
        response = send(client, method, url, headers)
        try:
            check(response, method, url)
        finally:
            response.close()  # a static file is sent from an open file
        sent += 1

    fuzz()
    COUNTS[rule] = sent
    assert sent >= examples


def test_fuzzing_covered_every_route_with_5000_requests():
    """Runs after the parametrized tests above (same module, file order)."""
    if len(COUNTS) < len(RULES):
        pytest.skip("run with the whole module to count the requests")
    total = sum(COUNTS.values())
    print(f"\nfuzzed {total} requests over {len(COUNTS)} routes: {COUNTS}")
    assert total >= MIN_TOTAL


# --- explicit worst cases ------------------------------------------------------------------------------

WORST = {
    "10k characters": "习近平" * 2000 + "Putin" * 800,
    "1,000 terms": " ".join(f"word{i}" for i in range(1000)),
    "1,000 Chinese terms": "，".join(["经济", "合作", "发展", "会议", "国家"] * 200),
    "5,000 nested parentheses": "(" * 5000 + "Putin" + ")" * 5000,
    "5,000 unbalanced parentheses": "(" * 5000 + "Putin",
    "5,000 closing parentheses": ")" * 5000 + "Putin",
    "5,000 quotes": '"' * 5000,
    "nested NOT": "NOT " * 3000 + "Putin",
    "1,000 ORs": " OR ".join(["Putin"] * 1000),
    "1,000 phrases": " ".join(['"普京 表示"'] * 1000),
    "1,000 field prefixes": " ".join(["title:(Putin"] * 1000),
    "control characters": "".join(chr(c) for c in range(1, 32)) + "Putin\x7f\x85",
    "zero-width and bidi": "\u200b\u200e\u202e普京\u2066\u2069\ufeff",
}
RAW = {
    "NUL bytes": "%00" * 50 + "Putin%00",
    "lone surrogates": "%ED%A0%80%ED%B0%80Putin%ED%BF%BF",
    "invalid UTF-8": "%FF%FE%C3%28%E4%B8Putin",
    "overlong encodings": "%C0%AF%E0%80%AF",
    "percent junk": "%%%G0%",
}


@pytest.mark.parametrize("name", sorted(WORST))
def test_worst_case_queries_are_answered_with_bounded_work(app, name):
    client = app.test_client()
    url = "/api/search?" + urllib.parse.urlencode({"q": WORST[name]}, quote_via=urllib.parse.quote)
    response = client.get(url)
    check(response, "GET", url)
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        interpreted = response.get_json()["interpreted"]
        terms = sum(len(words) for words in interpreted["terms"].values())
        assert terms <= MAX_TERMS
        assert len(interpreted["phrases"]) <= MAX_CLAUSES
        if len(WORST[name]) > MAX_QUERY_CHARS:  # the rest was never parsed
            assert f"query truncated to {MAX_QUERY_CHARS} characters" in interpreted["warnings"]
    page = client.get("/?" + urllib.parse.urlencode({"q": WORST[name]}))
    assert page.status_code in (200, 400) and b"Traceback" not in page.get_data()


@pytest.mark.parametrize("name", sorted(RAW))
@pytest.mark.parametrize("param", ["q", "speaker", "from", "size", "lang"])
def test_undecodable_bytes_in_parameters(app, name, param):
    client = app.test_client()
    url = f"/api/search?q=Putin&{param}={RAW[name]}" if param != "q" else f"/api/search?q={RAW[name]}"
    response = client.get(url)
    check(response, "GET", url)
    assert response.status_code in (200, 400)
    page = client.get(url.replace("/api/search", "/", 1))
    assert page.status_code in (200, 400) and b"Traceback" not in page.get_data()


@pytest.mark.parametrize("rule, arguments", RULES, ids=[rule for rule, _ in RULES])
def test_every_route_without_an_index_answers_cleanly(tmp_path, rule, arguments):
    """No index yet: the API says so in its error shape (503 index_missing), pages too, no traceback."""
    app = create_app({"INDEX_DIR": str(tmp_path / "missing"), "TESTING": True})
    path = rule
    for name in arguments:
        path = path.replace(f"<path:{name}>", "app.js" if rule.startswith("/static/") else SEED_ID)
    response = app.test_client().get(path + ("?q=Putin" if path in ("/", "/api/search") else ""))
    try:
        body = response.get_data()
        assert b"Traceback" not in body
        if rule.startswith("/static/"):
            assert response.status_code == 200
        elif is_api_path(path) and path != "/openapi.json":
            assert response.status_code == 503
            assert response.get_json()["error"]["code"] == "index_missing"
            assert set(response.get_json()["error"]) == {"code", "message", "param"}
        else:
            assert response.status_code in (200, 503)
    finally:
        response.close()
