"""Cut a raw byte stream from a GPS receiver into NMEA 0183 sentence candidates.

Receivers send power-up noise, half sentences after a replug, ``$$`` prefixes, sentences
spliced into each other and binary junk. ``readline()`` would glue all of that onto the
next good sentence; this framer resynchronises on every ``$`` instead. It only frames: the
checksum is checked by the parser. It never raises and counts what it threw away.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# NMEA 0183 allows 82 characters, but real receivers (u-blox NMEA 4.10, MediaTek $PMTKCHN)
# send longer ones; anything beyond this is a lost line end, not a sentence.
MAX_SENTENCE = 255

_START = 0x24  # "$"
_LINE_ENDS = (0x0D, 0x0A)  # CR, LF
# Bytes that end the run of plain text inside a sentence: line ends, "$", non-printables.
_SPECIAL = re.compile(rb"[^\x20-\x23\x25-\x7e]")


@dataclass
class NmeaFramer:
    """Bytes in, complete sentence candidates out (``$`` ... without CR/LF)."""

    max_sentence: int = MAX_SENTENCE
    sentences: int = 0
    garbage_bytes: int = 0
    spliced: int = 0  # a sentence cut short by the next "$" (lost line end, packet collision)
    overlong: int = 0
    _buffer: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> list[bytes]:
        """Add bytes; return every sentence they complete, in order."""
        out: list[bytes] = []
        buffer = self._buffer
        position, size = 0, len(data)
        while position < size:
            if not buffer:
                # Hunting: everything up to the next "$" is noise, line ends excepted.
                start = data.find(b"$", position)
                skipped = data[position:size if start < 0 else start]
                self.garbage_bytes += len(skipped) - skipped.count(b"\r") - skipped.count(b"\n")
                if start < 0:
                    break
                buffer.append(_START)
                position = start + 1
                continue
            # Inside a sentence: copy printable bytes up to the next byte that matters.
            match = _SPECIAL.search(data, position)
            end = match.start() if match else size
            buffer += data[position:end]
            if len(buffer) > self.max_sentence:
                self.overlong += 1
                self.garbage_bytes += len(buffer)
                buffer.clear()
                position = end
                continue
            if not match:
                break
            byte = data[end]
            position = end + 1
            if byte in _LINE_ENDS:
                self._complete(out)
            elif byte == _START:
                if len(buffer) > 1:  # "$$GPRMC" is a prefix, "$GPGGA,0301$GPGLL" a splice
                    self.spliced += 1
                    self.garbage_bytes += len(buffer) - 1
                    del buffer[1:]
            else:
                # Binary noise inside a sentence: it cannot be valid any more.
                self.garbage_bytes += len(buffer) + 1
                buffer.clear()
        return out

    def _complete(self, out: list[bytes]) -> None:
        if len(self._buffer) > 1:
            out.append(bytes(self._buffer))
            self.sentences += 1
        else:
            self.garbage_bytes += 1  # a lone "$"
        self._buffer.clear()

    def discard_partial(self) -> None:
        """Forget a half-received sentence (the line was interrupted)."""
        self.garbage_bytes += len(self._buffer)
        self._buffer.clear()

    def counters(self) -> dict[str, int]:
        return {
            "framed": self.sentences,
            "garbage_bytes": self.garbage_bytes,
            "spliced": self.spliced,
            "overlong": self.overlong,
        }
