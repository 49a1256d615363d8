"""The ratings table: loading, validation, and the latest blind ratings as integer codes.

The long table has one row per rating: `rater, sample, criterion, score` and optionally
`scored_at, rater_school, sample_school, kind`. `kind` is `blind` (the default), `local` (the
class teacher's own non-blind score of their student's work) or `reference` (the agreed score of
an anchor paper; its rater may be empty).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from moderation.statistics.levels import ScoreLevels

REQUIRED_COLUMNS = ("rater", "sample", "criterion", "score")
OPTIONAL_COLUMNS = ("scored_at", "rater_school", "sample_school", "kind")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
TEXT_COLUMNS = ("rater", "sample", "criterion", "rater_school", "sample_school")
KINDS = ("blind", "local", "reference")
# The revision key: a second row with the same key and the same (or no) time is a duplicate;
# with a later time it is a revision, and the latest one counts.
RATING_KEY = ["kind", "rater", "sample", "criterion"]

FIRST_DATA_LINE = 2       # the header is line 1
WHOLE_NUMBER = r"[+-]?\d{1,15}"
# A spreadsheet may write a whole-number score as 3.0: that is 3. (3.5 is not a score.)
POINT_ZERO = r"[+-]?\d{1,15}\.0+"
# Columns read as text whatever they hold (the reader would infer numbers otherwise); a
# wider table is refused anyway, its extra columns unknown.
TEXT_COLUMNS_READ = {f"f{number}": pa.string() for number in range(1000)}


class RatingsFileError(ValueError):
    """A ratings table that cannot be analysed.

    `line` is the 1-based CSV line of the problem (the header is line 1; for a frame built in
    code, row i is line i + 2), or None when the problem is not on one line. `message` is the
    plain-English problem without the line.
    """

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message if line is None else f"line {line}: {message}")
        self.message = message
        self.line = line


@dataclass(frozen=True)
class BlindCodes:
    """The latest blind ratings as integer codes, one entry per rating.

    rater, sample, criterion: codes into rater_ids, sample_ids, criterion_ids.
    unit: code of the (sample, criterion) pair, the unit of reliability; unit_criterion[u] is the
        criterion code of unit u.
    score: the integer scores.
    rows: position of each rating in the validated table (for its other columns).
    """

    rater: np.ndarray
    sample: np.ndarray
    criterion: np.ndarray
    unit: np.ndarray
    score: np.ndarray
    rows: np.ndarray
    unit_criterion: np.ndarray
    rater_ids: pd.Index
    sample_ids: pd.Index
    criterion_ids: pd.Index

    @property
    def n_units(self) -> int:
        return self.unit_criterion.size


def load_ratings(source: str | IO, levels: ScoreLevels | None = None) -> pd.DataFrame:
    """Read a ratings CSV (path, or text or binary buffer) and return the validated table.

    Every cell is read as text, so that each problem can be reported with its line. Blank lines
    are skipped. levels: the allowed scores, if known (see validate_ratings). Raises
    RatingsFileError naming the line and the problem.
    """
    return validate_ratings(read_table(source), levels)


def read_table(source: str | IO) -> pd.DataFrame:
    """A ratings CSV as text cells under its header's names, blank lines dropped, not yet
    validated; index + 2 is each row's line (as in validate_ratings), so that errors name the
    right line even after the blank lines are dropped. Raises RatingsFileError for a file that
    is not a readable table (see read_cells)."""
    cells = read_cells(source)
    frame = cells.iloc[1:].set_axis(cells.iloc[0].str.strip(), axis=1)
    frame.index = frame.index - 1
    return frame.loc[_has_text(frame)]


def read_cells(source: str | IO) -> pd.DataFrame:
    """Every record of a CSV as text cells, the header as row 0 (row r is line r + 1).

    Read by Arrow's columnar CSV reader (pyarrow.csv: about 0.3 s for a million ratings,
    against 6 s for pandas' reader building Python strings). Quoted fields may hold commas
    and line breaks; a UTF-8 byte order mark and CRLF line ends are accepted. A blank line is
    a record of empty cells, kept so that rows keep their line numbers. The header is read as
    a record too, so a line with more (or fewer) fields than the header is refused rather
    than shifted. One thread: the reader then knows each record's line number, which it
    cannot tell across threads.
    """
    bad: list[pa_csv.InvalidRow] = []

    def refuse(row: pa_csv.InvalidRow) -> str:
        bad.append(row)
        return "error"

    try:
        table = pa_csv.read_csv(
            _binary(source),
            read_options=pa_csv.ReadOptions(autogenerate_column_names=True, use_threads=False),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False,
                                              invalid_row_handler=refuse),
            convert_options=pa_csv.ConvertOptions(
                null_values=[], strings_can_be_null=False, auto_dict_encode=False,
                column_types=TEXT_COLUMNS_READ))
    except pa.ArrowInvalid as error:
        raise _parser_error(error, bad[0] if bad else None) from None
    # pandas' text dtype keeps Arrow's buffers (no Python string per cell).
    return pd.DataFrame({number: pd.Series(column, dtype="str")
                         for number, column in enumerate(table.columns)})


def validate_ratings(frame: pd.DataFrame, levels: ScoreLevels | None = None) -> pd.DataFrame:
    """Check and normalise a ratings table built in code or read from CSV.

    Returns a new frame with exactly COLUMNS, a fresh RangeIndex and table order kept:
    rater, sample, criterion, rater_school, sample_school as str (missing where empty or unknown;
    a reference row may have no rater); score int64; scored_at datetime64 UTC (NaT when unknown;
    ISO 8601 times without an offset are taken as UTC); kind one of KINDS (empty means blind).
    Text is stripped of surrounding spaces. The index of `frame` gives the line numbers in
    errors (index i is line i + 2).

    A score is a whole number; one written with a zero fraction (3.0) is that number.

    levels: the allowed scores (levels.ScoreLevels: one set for every criterion, or each
    criterion's own from a rubric). With them, a score outside its criterion's levels, and with
    a rubric a criterion the rubric does not name, is refused; every kind of row is checked
    (blind, local and reference scores are all scores on the rubric). Without them any whole
    number is taken.

    Raises RatingsFileError for the earliest problem: a missing column, a missing sample,
    criterion or rater, an unknown kind, a score that is not a whole number, an unparseable time,
    a score outside the levels or a criterion outside the rubric, or a duplicate (the same
    rater, sample, criterion and kind at the same or no time; a later time makes it a revision,
    which is kept).
    """
    repeated = frame.columns[frame.columns.duplicated()]
    if len(repeated):
        raise RatingsFileError(f"column '{repeated[0]}' appears more than once", line=1)
    missing = [name for name in REQUIRED_COLUMNS if name not in frame.columns]
    if missing:
        raise RatingsFileError(f"missing column {_listing(missing)}; the header must name "
                               + _listing(REQUIRED_COLUMNS), line=1)
    lines = _lines(frame.index)
    rows = frame.reset_index(drop=True)
    table = pd.DataFrame({name: _text(rows[name]) if name in rows else _unknown(len(rows))
                          for name in TEXT_COLUMNS})
    kind = _text(rows["kind"]).str.lower() if "kind" in rows else _unknown(len(rows))
    table["kind"] = kind.fillna("blind")
    score_text = _text(rows["score"])
    not_whole = ~score_text.str.fullmatch(WHOLE_NUMBER) & score_text.notna()
    if not_whole.any():
        # Checked only where the plain pattern failed, so a clean file pays nothing for it.
        point_zero = score_text[not_whole].str.fullmatch(POINT_ZERO)
        fixed = point_zero.index[point_zero.to_numpy(dtype=bool)]
        score_text = score_text.copy()
        score_text[fixed] = score_text[fixed].str.split(".").str[0]
        not_whole[fixed] = False
    scored_at = rows["scored_at"] if "scored_at" in rows else _unknown(len(rows))
    table["scored_at"], unparsed = _times(scored_at)

    _raise_first_problem(lines, [
        (table["sample"].isna(), lambda i: "the sample is missing"),
        (table["criterion"].isna(), lambda i: "the criterion is missing"),
        (~table["kind"].isin(KINDS),
         lambda i: f"kind {table['kind'][i]!r} is not one of {_listing(KINDS, 'or')}"),
        (table["rater"].isna() & (table["kind"] != "reference"),
         lambda i: "the rater is missing (only reference rows may have no rater)"),
        (score_text.isna(), lambda i: "the score is missing"),
        (not_whole, lambda i: f"score {score_text[i]!r} is not a whole number"
         + ("" if levels is None else f"; {levels.describe(table['criterion'][i])}")),
        (unparsed, lambda i: f"scored_at {scored_at[i]!r} is not an ISO 8601 time"),
    ])
    # Each distinct score parsed once: a million cells hold a handful of scores.
    codes, distinct = pd.factorize(score_text)
    table["score"] = distinct.astype(np.int64).to_numpy()[codes]
    if levels is not None:
        _raise_outside_levels(table, lines, levels)
    _raise_duplicate(table, lines)
    return table.loc[:, list(COLUMNS)]


def latest(rows: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """The latest row of each key, in table order: earlier rows are revisions.

    The latest by scored_at wins, unknown times counting as earliest, then table order.
    """
    if not rows.duplicated(key).any():
        return rows
    ordered = rows.sort_values("scored_at", kind="stable", na_position="first")
    return ordered.loc[~ordered.duplicated(key, keep="last")].sort_index()


def latest_blind(ratings: pd.DataFrame) -> pd.DataFrame:
    """The blind ratings, keeping a rater's latest score of each (sample, criterion) unit
    (docs/methods.md, "The unit of reliability": the latest for reliability, all for the
    audit trail)."""
    return latest(ratings.loc[ratings["kind"] == "blind"], ["rater", "sample", "criterion"])


def rater_schools(ratings: pd.DataFrame) -> pd.Series:
    """Each rater's school: the rater_school they appear with most often (raters without a
    known school are absent)."""
    pairs = ratings.loc[ratings["rater"].notna() & ratings["rater_school"].notna(),
                        ["rater", "rater_school"]]
    counts = pairs.value_counts().reset_index()
    return counts.drop_duplicates("rater").set_index("rater")["rater_school"]


def positions(ids: pd.Index, values: pd.Series | pd.Index) -> np.ndarray:
    """The position of each value in the unique `ids`, -1 where it is absent or missing: what
    ids.get_indexer(values) gives. Text of the table (pandas' str dtype keeps it in Arrow
    buffers) is looked up by Arrow's hash table, a tenth of the time of pandas' for a million
    ratings."""
    if not (_arrow_text(ids) and _arrow_text(values)):
        return ids.get_indexer(values)
    found = pc.index_in(pa.array(values.array), value_set=pa.array(ids.array))
    return found.fill_null(-1).to_numpy().astype(np.intp)


def values_at(table: pd.Series, at: np.ndarray) -> pd.Series:
    """table's values at positions `at` (from `positions`), missing where -1, indexed 0..n-1:
    table.reindex by the looked-up values, without looking them up again."""
    return pd.Series(table.array.take(at, allow_fill=True), name=table.name)


def _arrow_text(values: pd.Series | pd.Index) -> bool:
    return isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"


def encode_blind(ratings: pd.DataFrame) -> BlindCodes:
    """The latest blind ratings of a validated table as integer codes (see BlindCodes)."""
    blind = latest_blind(ratings)
    rater, rater_ids = pd.factorize(blind["rater"])
    sample, sample_ids = pd.factorize(blind["sample"])
    criterion, criterion_ids = pd.factorize(blind["criterion"])
    n_criteria = max(len(criterion_ids), 1)
    unit, pairs = pd.factorize(sample.astype(np.int64) * n_criteria + criterion)
    return BlindCodes(rater=rater, sample=sample, criterion=criterion, unit=unit,
                      score=blind["score"].to_numpy(np.int64),
                      rows=ratings.index.get_indexer(blind.index),
                      unit_criterion=pairs % n_criteria,
                      rater_ids=pd.Index(rater_ids), sample_ids=pd.Index(sample_ids),
                      criterion_ids=pd.Index(criterion_ids))


def _text(column: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(column.dtype) and (column.dropna() % 1 == 0).all():
        # Whole-number ids with a gap arrive as floats; 7.0 is still id "7".
        column = column.astype("Int64")
    text = column.astype("str").str.strip()
    return text.mask(text == "")


def _unknown(n: int) -> pd.Series:
    return pd.Series(np.nan, index=pd.RangeIndex(n), dtype="str")


def _times(column: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The times in UTC, and which given times could not be parsed."""
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        times = column.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(column.dtype):
        times = column.dt.tz_localize("UTC")
    else:
        text = _text(column)
        times = _arrow_times(text)
        if times is None:
            times = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
            return times.dt.as_unit("us"), times.isna() & text.notna()
    return times.dt.as_unit("us"), pd.Series(False, index=column.index)


def _arrow_times(text: pd.Series) -> pd.Series | None:
    """The times by Arrow's ISO 8601 parser (a tenth of pandas' time for a million ratings),
    or None when it cannot read every one: it takes only the common forms, each with an
    offset or Z, and reads those as pandas does; anything else goes to pandas' reader."""
    if not _arrow_text(text):
        return None
    try:
        parsed = pc.cast(pa.array(text.array), pa.timestamp("us", tz="UTC"))
    except pa.ArrowInvalid:
        return None
    return parsed.to_pandas().set_axis(text.index)


def _lines(index: pd.Index) -> np.ndarray:
    if pd.api.types.is_integer_dtype(index.dtype):
        return index.to_numpy(np.int64) + FIRST_DATA_LINE
    return np.arange(len(index)) + FIRST_DATA_LINE


def _raise_first_problem(lines: np.ndarray,
                         checks: list[tuple[pd.Series, Callable[[int], str]]]) -> None:
    """Raise for the earliest row with a problem; on one row, the first check in order wins."""
    first = [(int(np.argmax(mask.to_numpy())), order, describe)
             for order, (mask, describe) in enumerate(checks) if mask.any()]
    if first:
        row, _, describe = min(first, key=lambda found: found[:2])
        raise RatingsFileError(describe(row), line=int(lines[row]))


def _raise_outside_levels(table: pd.DataFrame, lines: np.ndarray, levels: ScoreLevels) -> None:
    """Refuse the earliest score outside its criterion's levels (or criterion outside the
    rubric): one vectorised membership test per criterion of the table."""
    code, names = pd.factorize(table["criterion"])
    score = table["score"].to_numpy()
    in_rubric = np.ones(score.size, dtype=bool)
    allowed = np.ones(score.size, dtype=bool)
    for number, name in enumerate(names):
        rows = code == number
        found = levels.of(name)
        if found is None:
            in_rubric[rows] = False
        else:
            allowed[rows] = np.isin(score[rows], found)
    _raise_first_problem(lines, [
        (pd.Series(~in_rubric),
         lambda i: f"criterion {table['criterion'][i]!r} is not in {levels.source} (its "
                   f"criteria are {_listing(levels.criteria)})"),
        (pd.Series(~allowed),
         lambda i: f"score {table['score'][i]} is not a level: "
                   f"{levels.describe(table['criterion'][i])}"),
    ])


def _raise_duplicate(table: pd.DataFrame, lines: np.ndarray) -> None:
    if not table.duplicated(RATING_KEY).any():
        # No rating given twice, so no duplicate: the times (slow to hash) need no look.
        return
    key = RATING_KEY + ["scored_at"]
    repeated = table.duplicated(key)
    if not repeated.any():
        return
    row = int(np.argmax(repeated.to_numpy()))
    group = table.groupby(key, dropna=False, sort=False).ngroup().to_numpy()
    earlier = int(lines[int(np.argmax(group == group[row]))])
    rating = table.loc[row]
    if rating["kind"] == "reference":
        what = (f"sample {rating['sample']!r} already has a reference score for criterion "
                f"{rating['criterion']!r} (line {earlier})")
    else:
        what = (f"rater {rating['rater']!r} already gave a {rating['kind']} score to sample "
                f"{rating['sample']!r} on criterion {rating['criterion']!r} (line {earlier})")
    raise RatingsFileError(f"duplicate rating: {what}; remove one, or give both a scored_at "
                           "time so that the later one counts as a revision",
                           line=int(lines[row]))


def _binary(source: str | IO) -> str | IO:
    """A path as it is; a text buffer as its UTF-8 bytes (the reader takes bytes)."""
    if isinstance(source, str) or not isinstance(source, io.TextIOBase):
        return source
    return pa.BufferReader(source.read().encode("utf-8"))


def _has_text(frame: pd.DataFrame) -> np.ndarray:
    """Rows with at least one non-empty cell (a blank line reads as a row of empty cells).
    Only rows whose first cell is empty can be blank, so only those are looked at whole."""
    has_text = (frame.iloc[:, 0] != "").to_numpy(copy=True)
    maybe_blank = ~has_text
    if maybe_blank.any():
        has_text[maybe_blank] = (frame.loc[maybe_blank] != "").any(axis=1).to_numpy()
    return has_text


def _parser_error(error: pa.ArrowInvalid, row: pa_csv.InvalidRow | None) -> RatingsFileError:
    """The reader's complaint in the file's terms. row: the record with the wrong number of
    fields, if that was the problem (its number is its line: the header is line 1)."""
    if row is not None and row.text.count('"') % 2:
        # An unclosed quote swallows the rest of the file into one field of this record.
        return RatingsFileError("a quote opened on this line is never closed", line=row.number)
    if row is not None:
        return RatingsFileError(f"this line has {row.actual_columns} fields but the header "
                                f"names {row.expected_columns}", line=row.number)
    if "Empty CSV file" in str(error):
        return RatingsFileError("no header: the first line must name "
                                + _listing(REQUIRED_COLUMNS), line=1)
    if "invalid UTF8" in str(error):
        return RatingsFileError("the file is not UTF-8 text")
    return RatingsFileError(f"the file is not a readable CSV table ({error})")


def _listing(names, conjunction: str = "and") -> str:
    quoted = [f"'{name}'" for name in names]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + f" {conjunction} " + quoted[-1]
