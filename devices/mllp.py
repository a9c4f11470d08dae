"""MLLP framing (HL7 v2 Minimal Lower Layer Protocol): ``0x0B`` message ``0x1C 0x0D``.

The framer never raises and never trusts the stream: bytes outside a frame are counted as
garbage, a new ``0x0B`` inside a frame means the old one was cut off (dropped), an
over-long frame is dropped, and an end block followed by ``\\n`` (or by nothing but the
next start block) is accepted, because some senders get the trailer wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field

START_BLOCK = 0x0B
END_BLOCK = 0x1C
CARRIAGE_RETURN = 0x0D
LINE_FEED = 0x0A

MAX_FRAME_BYTES = 1 << 20  # a PCD-01 message with waveforms is tens of kB; 1 MB is noise


def mllp_wrap(message: bytes) -> bytes:
    return bytes([START_BLOCK]) + message + bytes([END_BLOCK, CARRIAGE_RETURN])


@dataclass
class MllpFramer:
    max_frame: int = MAX_FRAME_BYTES
    garbage_bytes: int = 0
    truncated_frames: int = 0
    overlong_frames: int = 0
    _buffer: bytearray = field(default_factory=bytearray)
    _in_frame: bool = False
    _discarding: bool = False  # inside an over-long frame: skip to its end
    _end_seen: bool = False  # 0x1C seen, waiting for the trailer byte

    def feed(self, data: bytes) -> list[bytes]:
        """Add bytes, return the payload of every frame they complete."""
        frames: list[bytes] = []
        i, n = 0, len(data)
        while i < n:
            if self._end_seen:
                self._end_seen = False
                self._in_frame = False
                if not self._discarding:
                    frames.append(bytes(self._buffer))
                self._discarding = False
                self._buffer.clear()
                if data[i] in (CARRIAGE_RETURN, LINE_FEED):
                    i += 1
                continue
            if not self._in_frame:
                start = data.find(START_BLOCK, i)
                if start < 0:
                    self.garbage_bytes += n - i
                    return frames
                self.garbage_bytes += start - i
                self._in_frame = True
                i = start + 1
                continue
            i = self._take_frame_bytes(data, i)
        return frames

    def _take_frame_bytes(self, data: bytes, i: int) -> int:
        """Consume frame content up to an end or start block; return the next index."""
        end = data.find(END_BLOCK, i)
        stop = len(data) if end < 0 else end
        restart = data.find(START_BLOCK, i, stop)
        if restart >= 0:
            # A start block before the end: the frame we were in was cut off; a new one begins.
            self._abandon(restart - i)
            self.truncated_frames += 1
            return restart + 1
        self._append(data[i:stop])
        if end >= 0:
            self._end_seen = True
            return end + 1
        return len(data)

    def _abandon(self, skipped: int) -> None:
        self.garbage_bytes += len(self._buffer) + skipped
        self._buffer.clear()
        self._discarding = False

    def _append(self, part: bytes) -> None:
        if self._discarding:
            self.garbage_bytes += len(part)
            return
        self._buffer += part
        if len(self._buffer) > self.max_frame:
            self.garbage_bytes += len(self._buffer)
            self.overlong_frames += 1
            self._buffer.clear()
            self._discarding = True
