"""Philips IntelliVue MIB/RS232 framing (the guide's "Fixed Baudrate Protocol", 115200 8N1).

One frame on the wire::

    BOF 0xC0 | header (4) | user data | FCS (2) | EOF 0xC1

- header: protocol id 0x11 (IEEE 1073 data export), message type 0x01 (AS_APDU), then the
  length of the user data as an unsigned 16-bit big-endian number;
- FCS: the 16-bit frame check sequence of RFC 1662 (PPP) over header + user data, sent
  least significant byte first;
- transparency: inside a frame 0xC0, 0xC1 and 0x7D are sent as 0x7D followed by the byte
  XOR 0x20 (also inside the FCS);
- a BOF inside a frame aborts that frame ("frame abort"); we also use it to resynchronise
  after line noise.

Pure functions over bytes; ``FrameDecoder`` never raises and counts what it throws away.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BOF = 0xC0
EOF = 0xC1
ESCAPE = 0x7D
ESCAPE_XOR = 0x20
PROTOCOL_ID = 0x11  # IEEE 1073 data export
MESSAGE_TYPE_AS_APDU = 0x01
HEADER_SIZE = 4
FCS_SIZE = 2
# A poll result never comes near this; anything longer is noise or a lost EOF.
MAX_USER_DATA = 8192
_MAX_ESCAPED_FRAME = 2 * (HEADER_SIZE + MAX_USER_DATA + FCS_SIZE)


def _fcs_table() -> list[int]:
    # Reflected CRC-CCITT (polynomial x^16 + x^12 + x^5 + 1, bit-reversed 0x8408), RFC 1662.
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_FCS_TABLE = _fcs_table()


def ppp_fcs(data: bytes) -> int:
    """The FCS that goes on the wire for ``data`` (initial 0xFFFF, ones' complement at the end).

    ``ppp_fcs(b"123456789") == 0x906E`` (the CRC-16/X-25 check value).
    """
    fcs = 0xFFFF
    table = _FCS_TABLE
    for byte in data:
        fcs = (fcs >> 8) ^ table[(fcs ^ byte) & 0xFF]
    return fcs ^ 0xFFFF


def escape(data: bytes) -> bytes:
    """Apply transparency: 0x7D first, so the escapes added for 0xC0/0xC1 are not escaped again."""
    return (
        data.replace(b"\x7d", b"\x7d\x5d")
        .replace(b"\xc0", b"\x7d\xe0")
        .replace(b"\xc1", b"\x7d\xe1")
    )


def unescape(data: bytes) -> bytes | None:
    """Undo transparency; None when an escape byte is not followed by a byte."""
    if ESCAPE not in data:
        return data
    parts = data.split(b"\x7d")
    out = bytearray(parts[0])
    for part in parts[1:]:
        if not part:
            return None  # 0x7D at the end, or 0x7D 0x7D
        out.append(part[0] ^ ESCAPE_XOR)
        out += part[1:]
    return bytes(out)


def encode_frame(user_data: bytes) -> bytes:
    """A complete frame for one message (``user_data`` is the session/presentation PDU)."""
    if len(user_data) > MAX_USER_DATA:
        raise ValueError("user data too long for one frame")
    body = bytes((PROTOCOL_ID, MESSAGE_TYPE_AS_APDU)) + len(user_data).to_bytes(2, "big") + user_data
    fcs = ppp_fcs(body)
    return bytes((BOF,)) + escape(body + fcs.to_bytes(2, "little")) + bytes((EOF,))


@dataclass
class FrameDecoder:
    """Bytes in, the user data of every valid frame out; never raises."""

    frames_ok: int = 0
    fcs_errors: int = 0
    header_errors: int = 0
    escape_errors: int = 0
    aborted_frames: int = 0
    overlong_frames: int = 0
    garbage_bytes: int = 0
    _buffer: bytearray = field(default_factory=bytearray)
    _in_frame: bool = False

    def feed(self, data: bytes) -> list[bytes]:
        buffer = self._buffer
        buffer += data
        frames: list[bytes] = []
        while buffer:
            if not self._in_frame:
                start = buffer.find(BOF)
                if start < 0:
                    self.garbage_bytes += len(buffer)
                    buffer.clear()
                    break
                self.garbage_bytes += start
                del buffer[: start + 1]
                self._in_frame = True
            end = buffer.find(EOF)
            restart = buffer.find(BOF, 0, end if end >= 0 else len(buffer))
            if restart >= 0:
                # Frame abort (or noise that looked like a BOF): start over at the new BOF.
                self.aborted_frames += 1
                self.garbage_bytes += restart + 1
                del buffer[:restart]
                self._in_frame = False
                continue
            if end < 0:
                if len(buffer) > _MAX_ESCAPED_FRAME:
                    self.overlong_frames += 1
                    self.garbage_bytes += len(buffer)
                    buffer.clear()
                    self._in_frame = False
                break
            raw = bytes(buffer[:end])
            del buffer[: end + 1]
            self._in_frame = False
            user_data = self._check(raw)
            if user_data is not None:
                frames.append(user_data)
        return frames

    def _check(self, raw: bytes) -> bytes | None:
        body = unescape(raw)
        if body is None:
            self.escape_errors += 1
            return None
        if len(body) < HEADER_SIZE + FCS_SIZE:
            self.header_errors += 1
            return None
        if ppp_fcs(body[:-FCS_SIZE]) != int.from_bytes(body[-FCS_SIZE:], "little"):
            self.fcs_errors += 1
            return None
        length = int.from_bytes(body[2:4], "big")
        if body[0] != PROTOCOL_ID or body[1] != MESSAGE_TYPE_AS_APDU or length != len(body) - HEADER_SIZE - FCS_SIZE:
            self.header_errors += 1
            return None
        self.frames_ok += 1
        return body[HEADER_SIZE:-FCS_SIZE]

    def counters(self) -> dict[str, int]:
        return {
            "frames_ok": self.frames_ok,
            "fcs_errors": self.fcs_errors,
            "header_errors": self.header_errors,
            "escape_errors": self.escape_errors,
            "aborted_frames": self.aborted_frames,
            "overlong_frames": self.overlong_frames,
            "garbage_bytes": self.garbage_bytes,
        }
