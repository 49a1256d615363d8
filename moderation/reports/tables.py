"""A table of figures: what a chart shows beside its SVG, and what an export writes as a sheet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Cell = str | int | float | bool | None


@dataclass(frozen=True)
class Table:
    """Column headings and rows of cells (text, numbers, booleans, None for no value)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]

    @classmethod
    def of(cls, columns: Sequence[str], rows: Sequence[Sequence[Cell]]) -> Table:
        return cls(tuple(columns), tuple(tuple(row) for row in rows))
