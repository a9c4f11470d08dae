"""Canonical JSON, the form hash and RFC 7396 merge patches."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import pytest

from edge.wire.canonical import (canonical_json, canonical_json_reference, contains_null, form_sha256, merge_patch_apply,
                                 merge_patch_create)

# RFC 7396 appendix A (target, patch, result), spelled out by hand.
RFC_EXAMPLES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


def test_rfc7396_examples():
    for target, patch, result in RFC_EXAMPLES:
        assert merge_patch_apply(target, patch) == result


def test_canonical_json_is_sorted_compact_utf8():
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()
    assert form_sha256({"b": 1, "a": 2}) == form_sha256({"a": 2, "b": 1})


json_leaf = st.one_of(st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                      st.text(max_size=8))
# Forms never hold null (merge patch uses null for "remove"), so neither do these documents.
documents = st.recursive(
    st.dictionaries(st.text(max_size=4), json_leaf, max_size=4),
    lambda inner: st.dictionaries(st.text(max_size=4), st.one_of(json_leaf, inner, st.lists(json_leaf, max_size=3)),
                                  max_size=4),
    max_leaves=20,
)


@settings(max_examples=500)
@given(documents, documents)
def test_created_patch_turns_source_into_target(source, target):
    patch = merge_patch_create(source, target)
    assert merge_patch_apply(source, patch) == target
    assert form_sha256(merge_patch_apply(source, patch)) == form_sha256(target)
    assert not contains_null(merge_patch_apply(source, patch))


# Anything JSON can hold, the awkward parts on purpose: every float (tiny, huge, negative
# zero), integers past 64 bits, text with control characters, quotes, astral characters,
# lone surrogates, and words such as "null" or "1e-5" inside text.
any_leaf = st.one_of(st.booleans(), st.none(), st.integers(-2**70, 2**70), st.floats(),
                     st.sampled_from([1e-5, -5e-5, 1e-7, 1.5e-300, 1e16, 1e21, 0.0001, 0.00012, -0.0, 5e-324]),
                     st.text(max_size=8), st.sampled_from(["null", "x:null", "1e-5,", "0.0000", "e-12]", "\x1f\u2028"]))
any_document = st.recursive(any_leaf, lambda inner: st.one_of(
    st.dictionaries(st.text(max_size=4), inner, max_size=5), st.lists(inner, max_size=4)), max_leaves=25)


@settings(max_examples=2000)
@given(any_document)
def test_the_fast_canonical_json_is_byte_for_byte_the_definition(value):
    """orjson makes it fast; the bytes stay those of the definition, or both refuse."""
    try:
        expected = canonical_json_reference(value)
    except (ValueError, UnicodeEncodeError) as refused:
        with pytest.raises(type(refused)):
            canonical_json(value)
        return
    assert canonical_json(value) == expected
