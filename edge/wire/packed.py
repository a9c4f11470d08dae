"""How the SEH stores a message body or a form: compact JSON, deflated with a preset
dictionary. Here, beside the contract, because the SEH stores it and the soak's check reads
the SEH's database without the SEH's code (simulators/soak_check.py).
"""

from __future__ import annotations

import json
import zlib
from typing import Any

# A preset dictionary for deflate: the words every entry repeats. A patch of one entry is a few
# hundred bytes, too short for deflate to learn them from the text itself. Never change these
# bytes: stored bodies need them to inflate (a new dictionary takes a new format byte).
_ZDICT = (b'"vitals":{"medications":{"procedures":{"diagnoses":{"remarks":{"history":{"vehicle_position":{'
          b'"status":"update","times":{"eta":{"position":"withdrawn":true,"corrected_by":"replaces":'
          b'"clinical_time":"2026-01-01T00:00:00.000Z","recorded_at":"2026-01-01T00:00:00.000Z",'
          b'"author":"ambulancezorgverlener","verpleegkundige","source":"manual","device:monitor-1",'
          b'"code":150456,"value":147842,"unit":"/min","%","mm[Hg]","Cel","text":"')
_DEFLATE_ZDICT = b"\x01"


def pack(value: Any) -> bytes:
    """Compact JSON, deflated (with the preset dictionary): about half a patch's size."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15, zdict=_ZDICT)
    return _DEFLATE_ZDICT + deflate.compress(text) + deflate.flush()


def unpack(blob: bytes | str) -> Any:
    if isinstance(blob, str):  # plain JSON (e.g. a repair by hand)
        return json.loads(blob)
    if blob[:1] != _DEFLATE_ZDICT:
        raise ValueError("unknown stored body format")
    inflate = zlib.decompressobj(-15, zdict=_ZDICT)
    return json.loads(inflate.decompress(blob[1:]) + inflate.flush())
