"""Text a person typed or pasted, checked where it enters (tablet forms and API, SEH forms).

Two kinds of character are refused, with the field named, before anything is stored:
- what the wire refuses (edge/wire/safe_json.py): NUL and lone surrogates. Stored once, such a
  character made every later message of that rit "rejected" at the SEH, for good;
- what misleads a reader or a log: other control characters (ESC colours a terminal) and the
  bidirectional overrides and isolates, which show "Piet <U+202E>ztiwuoK" as "Piet Kouwitz".
Tab, newline and carriage return stay: free text may have lines. Zero-width joiners, soft
hyphens and the like stay too: they change no meaning.

Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# C0 and C1 controls except tab, LF, CR; DEL; bidi embeddings/overrides (U+202A-202E) and
# isolates (U+2066-2069); lone surrogates; the two noncharacters at the end of the BMP.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")


def text_problem(text: str) -> str | None:
    """Words for the person who typed ``text`` if it holds a refused character, else None."""
    found = _FORBIDDEN.search(text)
    if found is None:
        return None
    return (f"bevat een onzichtbaar stuurteken (U+{ord(found.group()):04X}) dat niet verstuurd kan worden: "
            "typ de tekst opnieuw in plaats van te plakken")


def problems(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, words) for every string (keys too) in a JSON-like ``value`` that text_problem refuses;
    paths as the API names fields ("data.injuries.0.text")."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, str):
            words = text_problem(node)
            if words:
                yield where, words
        elif isinstance(node, dict):
            for key, item in node.items():
                child = f"{where}.{key}" if where else str(key)
                if isinstance(key, str) and (words := text_problem(key)):
                    yield child, "veldnaam " + words
                stack.append((child, item))
        elif isinstance(node, list | tuple):
            stack.extend((f"{where}.{i}" if where else str(i), item) for i, item in enumerate(node))
