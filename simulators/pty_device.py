"""A simulated serial device: a pty whose slave end is symlinked at a stable path.

The reader opens the symlink like a real /dev/ttyUSB0. ``unplug()`` closes the pty and
removes the link, as pulling the cable does; ``plug()`` makes a new one at the same path.
"""

from __future__ import annotations

import errno
import os
import tty
from pathlib import Path


class PtyDevice:
    def __init__(self, link: str | os.PathLike):
        self.link = Path(link)
        self.master: int | None = None
        self._slave: int | None = None
        self.dropped_bytes = 0

    def plug(self) -> PtyDevice:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line discipline: bytes pass as on a real UART
        os.set_blocking(master, False)
        self.master, self._slave = master, slave
        tmp = self.link.with_name(self.link.name + ".tmp")
        tmp.unlink(missing_ok=True)
        os.symlink(os.ttyname(slave), tmp)
        os.replace(tmp, self.link)  # atomic: a reader never sees a missing or stale link
        return self

    def unplug(self) -> None:
        if self.link.is_symlink():
            self.link.unlink()
        for fd in (self.master, self._slave):
            if fd is not None:
                os.close(fd)
        self.master = self._slave = None

    @property
    def plugged(self) -> bool:
        return self.master is not None

    def write(self, data: bytes) -> int:
        """Write what fits; a full pty buffer (nobody reading) drops bytes like a UART would."""
        if self.master is None:
            self.dropped_bytes += len(data)
            return 0
        try:
            written = os.write(self.master, data)
        except BlockingIOError:
            written = 0
        except OSError as exc:
            if exc.errno != errno.EIO:
                raise
            written = 0
        self.dropped_bytes += len(data) - written
        return written

    def read(self, size: int = 4096) -> bytes:
        """Bytes the host wrote to the device (for protocols that talk back)."""
        if self.master is None:
            return b""
        try:
            return os.read(self.master, size)
        except (BlockingIOError, OSError):
            return b""

    def __enter__(self) -> PtyDevice:
        return self.plug()

    def __exit__(self, *exc) -> None:
        self.unplug()
