"""``ritlink gps`` and ``ritlink sim gps`` (GPS reader and simulator for testers)."""

from __future__ import annotations


def add_commands(sub, sim_sub) -> None:
    """Nothing yet: the GPS reader and route simulator add their commands here."""
