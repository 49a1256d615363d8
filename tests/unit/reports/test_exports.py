"""Report exports: every table as a sheet, values as they are, text never run as a formula."""

import copy
import csv
import io

import openpyxl
import pytest

from moderation.reports.exports import report_tables, report_xlsx, safe_csv_cell, write_csv
from moderation.reports.tables import Table


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+1", "'=1+1"), ("+44 20", "'+44 20"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("Ideas=good", "Ideas=good"), ("", ""),
    (-0.5, -0.5), (3, 3), (True, True), (None, ""),
])
def test_csv_cells_that_a_spreadsheet_would_run_become_text(value, expected):
    assert safe_csv_cell(value) == expected


def test_csv_writer_escapes_headings_and_cells_and_keeps_numbers():
    table = Table.of(("criterion", "=alpha"), [("=HYPERLINK(\"x\")", -0.25), ("Ideas", None)])
    stream = io.StringIO()

    write_csv(table, stream)

    assert list(csv.reader(io.StringIO(stream.getvalue()))) == [
        ["criterion", "'=alpha"], ["'=HYPERLINK(\"x\")", "-0.25"], ["Ideas", ""]]


@pytest.fixture(scope="module")
def hostile_report(report):
    hostile = copy.deepcopy(report)
    hostile["criteria"][0]["criterion"] = "=1+1"
    return hostile


@pytest.fixture(scope="module")
def workbook(hostile_report):
    stream = io.BytesIO()
    report_xlsx(hostile_report, stream)
    stream.seek(0)
    return openpyxl.load_workbook(stream)


def test_xlsx_has_a_sheet_per_table(workbook, hostile_report):
    assert workbook.sheetnames == list(report_tables(hostile_report))
    assert {"Criteria", "Raters", "Schools", "Triggers", "Agreement", "Categories", "Bias",
            "Equity"} <= set(workbook.sheetnames)


def test_xlsx_cells_hold_the_report_values(workbook, hostile_report):
    for name, table in report_tables(hostile_report).items():
        sheet = workbook[name]
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0] == table.columns
        # XLSX keeps numbers to 15 significant digits, as Excel shows them.
        assert [tuple(row) for row in rows[1:]] == [
            tuple(pytest.approx(cell, rel=1e-14) if isinstance(cell, float) else cell
                  for cell in row) for row in table.rows], name
    raters = {row[0]: row for row in workbook["Raters"].iter_rows(values_only=True)}
    first = hostile_report["raters"][0]
    columns = raters["rater"]
    assert raters[first["rater"]][columns.index("fair_average_difference")] == pytest.approx(
        first["fair_average_difference"])
    assert raters[first["rater"]][columns.index("drift_onset")] == first["drift"]["onset"]


def test_xlsx_writes_formula_like_text_as_text(workbook):
    cell = workbook["Criteria"]["A2"]

    assert cell.value == "=1+1" and cell.data_type == "s"
    assert workbook["Criteria"]["D2"].data_type == "n"


def test_report_tables_flatten_intervals_and_nested_figures(report):
    tables = report_tables(report)

    criteria = tables["Criteria"]
    row = dict(zip(criteria.columns, criteria.rows[0], strict=True))
    first = report["criteria"][0]
    assert (row["alpha_ci95_low"], row["alpha_ci95_high"]) == tuple(first["alpha_ci95"])
    assert row["icc_ICC2"] == first["icc"]["ICC2"]
    assert row["confusion_levels"] == "; ".join(map(str, first["confusion"]["levels"]))
    agreement = tables["Agreement"].rows
    levels = len(first["confusion"]["levels"])
    assert len([cell for cell in agreement if cell[0] == first["criterion"]]) == 2 * levels ** 2
    assert not report["bias"]
    assert tables["Bias"] == Table(("Note",), (("None in this report.",),))
