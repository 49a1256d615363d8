"""A table of figures: what a chart shows beside its SVG, and what an export writes as a sheet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from markupsafe import Markup, escape

Cell = str | int | float | bool | None


@dataclass(frozen=True)
class Table:
    """Column headings and rows of cells (text, numbers, booleans, None for no value)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]

    @classmethod
    def of(cls, columns: Sequence[str], rows: Sequence[Sequence[Cell]]) -> Table:
        return cls(tuple(columns), tuple(tuple(row) for row in rows))

    @cached_property
    def html(self) -> Markup:
        """The table as HTML, made once per table: a district's severity table has 3,000 rows,
        which a template loop took a tenth of a second to write on every view."""
        head = "".join(f'<th scope="col">{escape(column)}</th>' for column in self.columns)
        body = "\n".join("<tr>" + "".join(f"<td>{_cell(value)}</td>" for value in row)
                         + "</tr>" for row in self.rows)
        return Markup(f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n"
                      "</tbody>\n</table>")


def _cell(value: Cell) -> Markup:
    """A figure as the page shows it: two decimals, a dash for no value."""
    if value is None:
        return Markup("–")
    if isinstance(value, float):
        return Markup(f"{value:.2f}")
    return escape(value)
