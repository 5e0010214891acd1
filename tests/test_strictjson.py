"""Strict JSON (app/strictjson.py), the API's reading and writing of it, without a server."""
from __future__ import annotations

import json

import pytest

from app import strictjson
from tests.support.database import database_url


@pytest.mark.parametrize("text, error", [
    ('{"a": NaN}', strictjson.NonFinite),
    ('{"a": -Infinity}', strictjson.NonFinite),
    ('{"a": 1e400}', strictjson.NonFinite),
    ('{"a": 9223372036854775808}', strictjson.OutOfRange),
    ('{"a": -9223372036854775809}', strictjson.OutOfRange),
])
def test_numbers_nothing_can_store_are_refused(text, error):
    with pytest.raises(error):
        strictjson.loads(text)


def test_the_limits_themselves_are_numbers():
    assert strictjson.loads('[9223372036854775807, -9223372036854775808, 1e308, 0.5]') == [
        2**63 - 1, -(2**63), 1e308, 0.5]


def test_loads_text_refuses_lone_surrogates_and_deep_nesting():
    with pytest.raises(ValueError, match="surrogate"):
        strictjson.loads_text(r'{"a": "x\udc00"}')
    with pytest.raises(ValueError, match="nested"):
        strictjson.loads_text("[" * 100_000 + "]" * 100_000)
    assert strictjson.loads_text(r'"\ud83d\ude00"') == "\N{GRINNING FACE}"


def test_dumps_writes_null_for_non_finite_numbers():
    value = {"a": float("nan"), "b": [float("inf"), {"c": float("-inf")}], "d": 1.5}
    text = strictjson.dumps(value)
    assert json.loads(text, parse_constant=lambda name: pytest.fail(name)) == {
        "a": None, "b": [None, {"c": None}], "d": 1.5}


def test_scrub_replaces_lone_surrogates_in_keys_and_values_and_keeps_order():
    assert strictjson.scrub({"\ud800k": ["a", "\udfff", 1, float("nan")]}) == {
        "\ufffdk": ["a", "\ufffd", 1, None]}


def test_the_app_json_provider_is_strict(tmp_path, monkeypatch):
    from app import create_app

    monkeypatch.setenv("CONSTELLATION_INSTANCE_DIR", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(tmp_path, "x")})
    with pytest.raises(ValueError):
        app.json.loads('{"duration": NaN}')
    assert app.json.dumps({"value": float("inf")}) == '{"value": null}'
