"""Canonical JSON, the form hash and RFC 7396 merge patches."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from edge.wire.canonical import canonical_json, contains_null, form_sha256, merge_patch_apply, merge_patch_create

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
