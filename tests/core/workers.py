"""Picklable workers for the distributor tests (importable on a Ray node: the cluster's PYTHONPATH has the repository)."""

from __future__ import annotations

import os


class Square:
    """Squares a number; refuses negative ones with an error, dies on 13 when asked to."""

    def __init__(self, die_on: int | None = None) -> None:
        self.die_on = die_on

    def __call__(self, unit: int) -> int:
        if unit == self.die_on:
            os._exit(3)  # what a crash inside native code does to its process
        if unit < 0:
            raise ValueError(f"negative: {unit}")
        return unit * unit


class WhereAmI:
    """Returns the pid of the process that ran the unit."""

    def __call__(self, unit: int) -> int:
        return os.getpid()
