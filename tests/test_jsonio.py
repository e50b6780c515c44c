"""The API's JSON (web/jsonio.py) and the OpenSearch client's (search/backends/opensearch/serializer.py)
through orjson: the same values as the json module's, and its way where orjson has none."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from hypothesis import given, strategies as st
from opensearchpy.serializer import JSONSerializer

from search.backends.opensearch.serializer import FastJSONSerializer
from web.jsonio import FastJSONProvider

SCALARS = st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False, allow_infinity=False) | st.text()
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)


def providers() -> tuple[FastJSONProvider, DefaultJSONProvider]:
    app = Flask(__name__)
    stock = DefaultJSONProvider(app)
    stock.ensure_ascii, stock.sort_keys = False, False  # what the app set before
    return FastJSONProvider(app), stock


@dataclasses.dataclass
class Point:
    x: int
    label: str


@given(VALUES)
def test_the_api_writes_and_reads_what_flask_s_provider_does(value):
    fast, stock = providers()
    written = fast.dumps(value, separators=(",", ":"))
    assert json.loads(written) == json.loads(stock.dumps(value, separators=(",", ":"))) == value
    assert fast.loads(written) == value
    if not any(isinstance(leaf, float) for leaf in _leaves(value)):  # 1e16 may be written 1e+16 or 1e16
        assert written == stock.dumps(value, separators=(",", ":"))


def _leaves(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def test_what_orjson_does_not_write_itself_is_written_as_before():
    fast, stock = providers()
    cst = timezone(timedelta(hours=8))
    values = [
        {"when": datetime(2024, 10, 22, 18, 30, tzinfo=cst), "day": date(2024, 10, 22)},  # HTTP dates, as Flask writes them
        {"point": Point(1, "普京")},
        {"price": Decimal("1.50"), 3: "an int key", "big": 2**70},
        {"broken": "\ud800"},  # not valid UTF-8: the json module writes it (and the response then fails as before)
        ("a", "tuple"),
    ]
    for value in values:
        assert fast.dumps(value, separators=(",", ":")) == stock.dumps(value, separators=(",", ":"))
    assert fast.dumps({"b": 1, "a": 2}, separators=(",", ":")) == '{"b":1,"a":2}'  # keys in their order
    assert fast.dumps({"b": 1, "a": [2]}) == stock.dumps({"b": 1, "a": [2]}) == '{"b": 1, "a": [2]}'  # not compact: as before
    assert fast.dumps({"a": [1]}, indent=2) == stock.dumps({"a": [1]}, indent=2)  # debug output: the json module's


def test_a_response_is_utf8_json_with_a_newline():
    app = Flask(__name__)
    app.json = FastJSONProvider(app)
    with app.app_context():
        response = app.json.response({"q": "普京", "total": 1})
    assert response.mimetype == "application/json"
    assert response.get_data() == '{"q":"普京","total":1}\n'.encode("utf-8")


def test_reading_bad_json_raises_the_json_module_s_error():
    fast, _ = providers()
    try:
        fast.loads("{not json")
    except json.JSONDecodeError as exc:
        assert exc.pos == 1
    else:
        raise AssertionError("no error")


@given(VALUES.filter(lambda value: not isinstance(value, str)))  # a string is sent as it is (already JSON)
def test_the_cluster_client_writes_and_reads_what_its_own_serializer_does(value):
    fast, stock = FastJSONSerializer(), JSONSerializer()
    written = fast.dumps(value)
    assert json.loads(written) == json.loads(stock.dumps(value)) == value
    assert fast.loads(written) == stock.loads(written) == value


def test_the_cluster_client_passes_strings_and_falls_back_like_its_own_serializer():
    fast, stock = FastJSONSerializer(), JSONSerializer()
    assert fast.dumps('{"already": "json"}') == '{"already": "json"}'
    for value in ({"d": date(2024, 10, 22), "n": Decimal("2.5"), 7: "x"}, {"big": 2**70}, {"s": "\ud800"}):
        assert fast.dumps(value) == stock.dumps(value)
    assert math.isclose(fast.loads(b'{"x": 0.1}')["x"], 0.1)
