"""Operations commands (``ritlink status``, ``ritlink audit`` ...)."""

from __future__ import annotations


def add_commands(sub, sim_sub) -> None:
    """Nothing yet: operations commands are added here."""
