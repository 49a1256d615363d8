"""Writers of a ratings table (the statistics engine's input format) as CSV or XLSX.

The table comes in as a DataFrame of moderation.statistics.table's COLUMNS (the analysis
package builds it from a round). Cells are what a spreadsheet opens, so a text cell starting
with = + - @ (or a tab or carriage return) could run as a formula: in CSV it is written with a
leading apostrophe, in XLSX it is written as a string cell, which Excel never evaluates.
Numbers stay numbers: a score of -1 is a number, not text, and is never escaped.
"""

from __future__ import annotations

from typing import IO

import pandas as pd
import xlsxwriter

from moderation.core.spreadsheets import escape_text

FORMATS = ("csv", "xlsx")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+00:00"


def write_csv(table: pd.DataFrame, out: IO[str]) -> None:
    """The table as CSV, text cells escaped, times ISO 8601 in UTC."""
    _cells(table, escape=True).to_csv(out, index=False, lineterminator="\n")


def write_xlsx(table: pd.DataFrame, path: str) -> None:
    """The table as one sheet, written row by row (constant_memory) for district-sized
    rounds: text as string cells, scores as numbers."""
    cells = _cells(table, escape=False)
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True})
    sheet = workbook.add_worksheet("ratings")
    sheet.write_row(0, 0, list(cells.columns))
    numeric = [pd.api.types.is_numeric_dtype(cells[name]) for name in cells.columns]
    for row, values in enumerate(cells.itertuples(index=False, name=None), start=1):
        for column, value in enumerate(values):
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                continue
            if numeric[column]:
                sheet.write_number(row, column, value)
            else:
                sheet.write_string(row, column, value)
    workbook.close()


def _cells(table: pd.DataFrame, *, escape: bool) -> pd.DataFrame:
    cells = table.copy()
    for name in cells.columns:
        column = cells[name]
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            cells[name] = column.dt.tz_convert("UTC").dt.strftime(TIME_FORMAT)
            cells[name] = cells[name].where(column.notna(), None)
        elif escape and not pd.api.types.is_numeric_dtype(column.dtype):
            cells[name] = column.map(escape_text, na_action="ignore")
    return cells
