"""Split a byte stream into text lines without trusting the stream.

Serial lines carry power-up noise, half lines after a replug and binary junk. The framer
never raises: it returns complete lines (without CR/LF) and counts what it discarded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LineFramer:
    max_line: int = 256
    garbage_bytes: int = 0
    overlong_lines: int = 0
    _buffer: bytearray = field(default_factory=bytearray)
    _discarding: bool = False

    def feed(self, data: bytes) -> list[bytes]:
        """Add bytes, return every line completed by them (CR, LF or CRLF ends a line)."""
        lines: list[bytes] = []
        start = 0
        normalised = data.replace(b"\r", b"\n")
        while True:
            end = normalised.find(b"\n", start)
            if end < 0:
                self._append(normalised[start:])
                return lines
            self._append(normalised[start:end])
            if self._discarding:
                self._discarding = False
            elif self._buffer:
                lines.append(bytes(self._buffer))
            self._buffer.clear()
            start = end + 1

    def _append(self, part: bytes) -> None:
        if self._discarding:
            self.garbage_bytes += len(part)
            return
        self._buffer += part
        if len(self._buffer) > self.max_line:
            # A line this long is noise (or a lost newline): drop it up to the next newline.
            self.garbage_bytes += len(self._buffer)
            self.overlong_lines += 1
            self._buffer.clear()
            self._discarding = True


class LineDecoder:
    """Bytes in, observations out for protocols that send one line per frame.

    ``parse_line(line, device_id)`` returns the line's observations or raises ``line_error``;
    bad lines are counted and skipped, never raised.
    """

    def __init__(self, device_id: str, parse_line: Callable[[bytes, str], list], line_error: type[Exception],
                 max_line: int):
        self.device_id = device_id
        self.framer = LineFramer(max_line=max_line)
        self.lines_ok = 0
        self.lines_bad = 0
        self._parse_line = parse_line
        self._line_error = line_error

    def feed(self, data: bytes) -> list:
        observations: list = []
        for line in self.framer.feed(data):
            try:
                observations.extend(self._parse_line(line, self.device_id))
                self.lines_ok += 1
            except self._line_error:
                self.lines_bad += 1
        return observations

    @property
    def frames_ok(self) -> int:
        return self.lines_ok

    def counters(self) -> dict[str, int]:
        return {"lines_ok": self.lines_ok, "lines_bad": self.lines_bad, "garbage_bytes": self.framer.garbage_bytes}
