"""The report as tables, and those tables as XLSX (one sheet each) or CSV. Pure: no Flask.

`report_tables` flattens the engine's report dict (report.schema.json) into named tables:
nested figures become columns (drift_onset, icc_ICC2), each 95% interval two columns (_low,
_high), a list of scalars one cell ("1; 2; 3; 4"); lists of rows (matrices, categories,
disagreement) are tables of their own.

Spreadsheets run a cell that starts with = + - or @ as a formula, so text from the report
(a criterion's or school's name as a district typed it) could run in a coach's spreadsheet.
Text is therefore never written as a formula: XLSX cells are written as strings by type
(numbers stay numbers), and CSV text starting with = + - @, tab or carriage return gets a
leading ' (OWASP, "CSV Injection").
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from typing import IO

import xlsxwriter

from moderation.core.spreadsheets import escape_text
from moderation.reports.tables import Cell, Table

EMPTY = Table(("Note",), (("None in this report.",),))
COLUMN_WIDTH = 16


def safe_csv_cell(value: Cell) -> Cell:
    """A cell as it goes into a CSV file: text that a spreadsheet would run as a formula gets
    a leading ' (shown as text, the rest unchanged); None becomes an empty cell; numbers and
    booleans are kept."""
    if value is None:
        return ""
    return escape_text(value) if isinstance(value, str) else value


def write_csv(table: Table, stream: IO[str]) -> None:
    """The table as CSV (heading row first), every cell through safe_csv_cell."""
    writer = csv.writer(stream)
    for row in (table.columns, *table.rows):
        writer.writerow([safe_csv_cell(cell) for cell in row])


def report_xlsx(report: dict, stream: IO[bytes], *, leave_out: Iterable[str] = ()) -> None:
    """The report as an XLSX workbook: one sheet per table of report_tables except those named
    in leave_out (a reader's privacy: no rater sheet for who sees no raters)."""
    tables_xlsx({name: table for name, table in report_tables(report).items()
                 if name not in leave_out}, stream)


def tables_xlsx(tables: dict[str, Table], stream: IO[bytes]) -> None:
    """Tables as an XLSX workbook written to stream (a binary file or BytesIO): one sheet per
    table, by its name, its heading row bold and frozen. Rows are written one by one in
    xlsxwriter's constant_memory mode, so a district's thousands of raters do not sit in
    memory twice."""
    workbook = xlsxwriter.Workbook(stream, {"constant_memory": True,
                                            "strings_to_formulas": False,
                                            "strings_to_urls": False,
                                            "strings_to_numbers": False})
    heading = workbook.add_format({"bold": True})
    for name, table in tables.items():
        sheet = workbook.add_worksheet(name)
        sheet.set_column(0, max(len(table.columns) - 1, 0), COLUMN_WIDTH)
        sheet.freeze_panes(1, 0)
        for column, title in enumerate(table.columns):
            sheet.write_string(0, column, title, heading)
        for row, cells in enumerate(table.rows, start=1):
            for column, cell in enumerate(cells):
                _write_cell(sheet, row, column, cell)
    workbook.close()


def report_tables(report: dict) -> dict[str, Table]:
    """The report's tables by sheet name, in reading order (see the module)."""
    criteria = report["criteria"]
    tables = {
        "Summary": _summary(report),
        "Criteria": _records(criteria),
        "Overall": _records([report["overall"]]),
        "Raters": _records(report["raters"]),
        "Schools": _records(report["schools"]),
        "Triggers": _records(report["triggers"]),
        "Agreement": _matrices(criteria),
        "Categories": _records({"criterion": criterion["criterion"]} | category
                               for criterion in criteria
                               for category in criterion.get("categories") or ()),
        "Bias": _records(report["bias"] or ()),
        "Equity": _records(report["equity"] or ()),
        "Drift power": _records(report["drift_power"]),
        "Disagreement": _records(report["overall"]["most_disagreement"] or ()),
    }
    return {name: table if table.rows else EMPTY for name, table in tables.items()}


def _write_cell(sheet, row: int, column: int, cell: Cell) -> None:
    if cell is None:
        return
    if isinstance(cell, bool):
        sheet.write_boolean(row, column, cell)
    elif isinstance(cell, int | float) and math.isfinite(cell):
        sheet.write_number(row, column, cell)
    else:
        sheet.write_string(row, column, str(cell))


def _summary(report: dict) -> Table:
    """The report's single figures (run, design, Rasch fit, thresholds) as figure, value."""
    singles = {key: report[key] for key in ("schema_version", "level", "n_ratings",
                                            "bootstrap", "school_counts", "design",
                                            "rater_effects", "thresholds")}
    singles["rasch"] = {key: value for key, value in report["rasch"].items()
                        if not isinstance(value, list)}
    return Table.of(("Figure", "Value"), list(_flat(singles).items()))


def _matrices(criteria: list[dict]) -> Table:
    """Every agreement matrix in long form: criterion, matrix, row level, column level, n."""
    rows = []
    for criterion in criteria:
        for matrix in ("confusion", "readings"):
            entry = criterion.get(matrix)
            if not entry:
                continue
            levels = entry["levels"]
            rows += [(criterion["criterion"], matrix, level, other, entry["counts"][i][j])
                     for i, level in enumerate(levels) for j, other in enumerate(levels)]
    return Table.of(("criterion", "matrix", "row score (given or first reading)",
                     "column score (agreed or second reading)", "n"), rows)


def _records(entries: Iterable[dict]) -> Table:
    """Entries as rows of one table; columns in first-seen order over all entries."""
    flat = [_flat(entry) for entry in entries]
    columns = list(dict.fromkeys(column for row in flat for column in row))
    return Table.of(columns, [[row.get(column) for column in columns] for row in flat])


def _flat(entry: dict, prefix: str = "") -> dict[str, Cell]:
    cells: dict[str, Cell] = {}
    for key, value in entry.items():
        name = f"{prefix}{key}"
        if "ci95" in name and (value is None or _is_interval(value)):
            cells[f"{name}_low"], cells[f"{name}_high"] = value or (None, None)
        elif isinstance(value, dict):
            cells |= _flat(value, f"{name}_")
        elif isinstance(value, list | tuple):
            if all(not isinstance(item, dict | list) for item in value):
                cells[name] = "; ".join(str(item) for item in value)
            # lists of rows (matrices, samples, categories) are tables of their own
        else:
            cells[name] = value
    return cells


def _is_interval(value) -> bool:
    return isinstance(value, list | tuple) and len(value) == 2 \
        and all(isinstance(item, int | float) for item in value)
