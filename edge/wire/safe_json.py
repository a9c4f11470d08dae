"""JSON from the network, parsed as if it were hostile: the one place every receiver goes through.

Plain ``json.loads`` lets one message stop a receiver for good: 100,000 nested ``[`` raise
RecursionError, ``NaN`` or ``1e999`` later fail canonical JSON, an integer past 2^63 fails when
SQLite binds it, a lone surrogate fails UTF-8 encoding, a NUL cuts strings short in C code.
Here each of those is refused up front with a short reason that is safe to log (no content).

Pure: no I/O. The depth is measured on the text before parsing, without recursion.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from typing import Any

DEFAULT_MAX_BYTES = 256 * 1024  # a long rit's snapshot is ~60 KiB; the broker's cap sits above this
DEFAULT_MAX_DEPTH = 32  # a form nests 5 levels; envelopes add 1
INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # SQLite INTEGER
_MAX_INT_DIGITS = 20

# A JSON string literal (possessive: linear on any input); what is left holds the brackets.
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_SURROGATE = re.compile("[\ud800-\udfff]")


class PayloadError(ValueError):
    """A payload refused before any handler saw it. ``code`` is a short reason code;
    ``reason`` is ``"<code>: <detail>"``; both are safe to log and to send back."""

    def __init__(self, code: str, detail: str):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.reason = f"{code}: {detail}"


def _refuse_constant(name: str) -> Any:
    raise PayloadError("malformed", f"{name} is not allowed")


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        raise PayloadError("out_of_range", "integer too large")
    value = int(text)
    if not INT_MIN <= value <= INT_MAX:
        raise PayloadError("out_of_range", "integer outside 64-bit range")
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise PayloadError("malformed", "number overflows to infinity")
    return value


def nesting_depth(text: str) -> int:
    """The deepest bracket nesting outside string literals (no recursion, linear time)."""
    brackets = _BRACKETS.findall(_STRING.sub("", text))
    return max(itertools.accumulate(_STEP[b] for b in brackets), default=0)


def check_strings(value: Any) -> None:
    """Every key and string in ``value`` is free of NUL and of lone surrogates (iteratively)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            _check_string(node)
        elif isinstance(node, dict):
            for key, item in node.items():
                _check_string(key)
                stack.append(item)
        elif isinstance(node, list):
            stack.extend(node)


def _check_string(text: str) -> None:
    if "\x00" in text:
        raise PayloadError("malformed", "NUL in a string")
    if not text.isascii() and _SURROGATE.search(text):
        raise PayloadError("malformed", "lone surrogate in a string")


def loads(payload: bytes | bytearray | memoryview, max_bytes: int = DEFAULT_MAX_BYTES,
          max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Parse ``payload`` within the limits, or raise PayloadError. Never raises anything else."""
    if len(payload) > max_bytes:
        raise PayloadError("too_large", f"{len(payload)} bytes > {max_bytes}")
    try:
        text = bytes(payload).decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("malformed", "not UTF-8") from None
    if nesting_depth(text) > max_depth:
        raise PayloadError("too_deep", f"nesting over {max_depth}")
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_int=_parse_int, parse_float=_parse_float)
    except PayloadError:
        raise
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        raise PayloadError("malformed", "not JSON") from None
    check_strings(value)
    return value


def loads_object(payload: bytes | bytearray | memoryview, **limits: int) -> dict[str, Any]:
    value = loads(payload, **limits)
    if not isinstance(value, dict):
        raise PayloadError("malformed", "not a JSON object")
    return value
