"""A round's ratings as the statistics engine's input table (moderation.statistics.table).

Read in one statement, never ORM objects one by one: on PostgreSQL by COPY of the select to CSV,
parsed by pandas' C reader (turning a million rows into Python rows and back into columns took
most of the 17 s the analysis of a district spent reading); elsewhere with SQLAlchemy Core in
partitions (yield_per). Raters, schools and criteria appear by stable pseudonymous codes made
from their ids (R12, S3, C5), samples by their own anonymous code: no name, email or student in
the table.

Rows, in a canonical order (so the same ratings always give the same table, hash and numbers):
- blind: each current, submitted blind rating of the round (context "round", the round's id),
  with the school the rater was in the pool for;
- local: the class teachers' current local scores of the round's live samples;
- reference: the agreed score of each anchor (validity or calibration paper) the round used.
A historical round (a past moderation imported from a file) has no queue: its local scores are
the ones imported with it (context "round", its id), its anchors those among its samples, and
its pool (round_raters) holds the school each rater scored for in the file.

Beside the ratings, `school_context` gives the district's public school context (the equity
analysis relates school findings to it) and `rubric_levels` the scores the round's rubric
allows; all are the run's input and enter its hash.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import and_, literal, null, or_, select, union_all

from moderation.accounts.models import ContextMeasure, MeasureUnit, SchoolContext
from moderation.core.extensions import db
from moderation.ratings.models import Rating, RatingKind
from moderation.samples.models import Anchor, AnchorScore, WorkSample
from moderation.scoring.models import ItemKind, QueueItem, RoundRater
from moderation.statistics.table import COLUMNS
from rubrics.models import Criterion, Level

# Rows read per round trip to the database.
PARTITION = 10_000
KIND_ORDER = {"blind": 0, "local": 1, "reference": 2}
SORT_COLUMNS = ["kind_order", "criterion", "sample", "rater", "scored_at"]


RATER, SCHOOL, CRITERION = "R", "S", "C"


def rater_code(user_id: int) -> str:
    return f"{RATER}{user_id}"


def school_code(school_id: int | None) -> str | None:
    return None if school_id is None else f"{SCHOOL}{school_id}"


def criterion_code(criterion_id: int) -> str:
    return f"{CRITERION}{criterion_id}"


def has_blind_ratings(round_id: int) -> bool:
    """Whether the round has a submitted blind rating (the engine needs at least one)."""
    return db.session.execute(select(
        select(Rating.id).where(_blind_of(round_id)).exists())).scalar_one()


def _blind_of(round_id: int):
    """The current, submitted blind ratings of the round (the blind rows of its table)."""
    return and_(Rating.kind == RatingKind.BLIND, Rating.context_type == "round",
                Rating.context_id == round_id, Rating.is_current.is_(True),
                Rating.submitted_at.is_not(None))


def round_ratings(round_id: int) -> pd.DataFrame:
    """The round's input table: the engine's COLUMNS, codes for ids, times in UTC, in the
    canonical order."""
    statement = _round_rows(round_id)
    connection = db.session.connection()
    raw = _copied(connection, statement) if connection.dialect.name == "postgresql" \
        else _fetched(statement)
    return _table(raw)


def export_table(round_id: int, *, anonymous: bool = False) -> pd.DataFrame:
    """The round's input table for a download. `anonymous` is for someone who may not see
    individual raters: each rater gets a code drawn at random for this export only (so two
    exports cannot be joined on a person), and the rater's school is left out."""
    table = round_ratings(round_id)
    if anonymous:
        raters = table["rater"].dropna().unique()
        codes: set[str] = set()
        while len(codes) < len(raters):
            codes.add(f"X{secrets.token_hex(4)}")
        table["rater"] = table["rater"].map(dict(zip(raters, sorted(codes), strict=True)))
        table["rater_school"] = None
    return table


def rubric_levels(version_id: int) -> dict[str, list[int]]:
    """criterion code -> the scores its levels allow, of the round's rubric version (so the
    engine refuses any other, and its agreement matrices show a level nobody used)."""
    levels: dict[str, list[int]] = {}
    for criterion_id, score in db.session.execute(
            select(Level.criterion_id, Level.score).join(Criterion)
            .where(Criterion.version_id == version_id).order_by(Level.criterion_id, Level.score)):
        levels.setdefault(criterion_code(criterion_id), []).append(score)
    return levels


def school_context(district_id: int) -> pd.DataFrame | None:
    """The district's school context in the shape of the engine's schools file
    (statistics.equity.load_schools): indexed by school code, one numeric column per measure
    key, shares as percentages (as the engine reads *_share columns), NaN where a school has no
    figure. None when the district records no context."""
    rows = db.session.execute(
        select(SchoolContext.school_id, ContextMeasure.key, ContextMeasure.unit,
               SchoolContext.value)
        .join(ContextMeasure, ContextMeasure.id == SchoolContext.measure_id)
        .where(ContextMeasure.district_id == district_id)).all()
    if not rows:
        return None
    frame = pd.DataFrame(rows, columns=["school", "key", "unit", "value"])
    shares = frame["unit"] == MeasureUnit.SHARE
    frame.loc[shares, "value"] = frame.loc[shares, "value"] * 100
    wide = frame.pivot(index="school", columns="key", values="value").astype(float)
    wide.index = pd.Index([school_code(s) for s in wide.index], name="school")
    wide.columns.name = None
    return wide.sort_index()[sorted(wide.columns)]


def input_hash(table: pd.DataFrame, parameters: dict,
               context: pd.DataFrame | None = None) -> str:
    """sha256 over the parameters (engine version included), the canonical rows and the school
    context. The rows enter as pandas' 64-bit hash of each row, in order, with the column
    names: a million rows hash in a fraction of a second, where writing them out as CSV took
    six. A pandas release that hashed differently would only compute a run afresh."""
    digest = hashlib.sha256(json.dumps(parameters, sort_keys=True).encode())
    # The context's index is its schools; the table's is only its row numbers.
    for frame, with_index in ((table, False), (context, True)):
        if frame is not None:
            digest.update(json.dumps([str(name) for name in frame.columns]).encode())
            digest.update(pd.util.hash_pandas_object(frame, index=with_index)
                          .to_numpy().tobytes())
    return digest.hexdigest()


_RAW_COLUMNS = ("kind", "rater_id", "sample", "criterion_id", "score", "scored_at",
                "rater_school_id", "sample_school_id")
_ID_COLUMNS = ("rater_id", "criterion_id", "rater_school_id", "sample_school_id")


def _round_rows(round_id: int):
    items = select(QueueItem.sample_id, QueueItem.anchor_id, QueueItem.kind).where(
        QueueItem.round_id == round_id).subquery()
    in_round = and_(Rating.context_type == "round", Rating.context_id == round_id)
    blind = (
        select(literal("blind"), Rating.rater_id, WorkSample.code, Rating.criterion_id,
               Rating.score, Rating.submitted_at, RoundRater.school_id, WorkSample.school_id)
        .join(WorkSample, WorkSample.id == Rating.sample_id)
        .outerjoin(RoundRater, and_(RoundRater.round_id == round_id,
                                    RoundRater.user_id == Rating.rater_id))
        .where(_blind_of(round_id)))
    live = select(items.c.sample_id).where(items.c.kind == ItemKind.LIVE)
    local = (
        select(literal("local"), Rating.rater_id, WorkSample.code, Rating.criterion_id,
               Rating.score, Rating.submitted_at, WorkSample.school_id, WorkSample.school_id)
        .join(WorkSample, WorkSample.id == Rating.sample_id)
        .where(Rating.kind == RatingKind.LOCAL, Rating.is_current.is_(True),
               or_(Rating.sample_id.in_(live), in_round)))
    anchors = select(items.c.anchor_id).where(items.c.anchor_id.is_not(None))
    rated = select(Rating.sample_id).where(in_round)
    reference = (
        select(literal("reference"), null(), WorkSample.code, AnchorScore.criterion_id,
               AnchorScore.score, null(), null(), WorkSample.school_id)
        .join(Anchor, Anchor.id == AnchorScore.anchor_id)
        .join(WorkSample, WorkSample.id == Anchor.sample_id)
        .where(or_(AnchorScore.anchor_id.in_(anchors), Anchor.sample_id.in_(rated))))
    return union_all(blind, local, reference)


def _copied(connection, statement) -> pd.DataFrame:
    """The rows by COPY (PostgreSQL): ids as nullable integers, scored_at in UTC."""
    # Literal values: COPY takes no bound parameters, and these are ours (ids, kinds).
    sql = statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
    buffer = io.BytesIO()
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
        for block in copy:
            buffer.write(block)
    buffer.seek(0)
    raw = pd.read_csv(buffer, names=list(_RAW_COLUMNS), dtype={
        "kind": "str", "sample": "str", "scored_at": "str", "score": "int64",
        **{name: "Int64" for name in _ID_COLUMNS}}, keep_default_na=False, na_values=[""])
    # COPY writes times in the session's zone with their offset (2025-09-10 12:34:56.1+00).
    raw["scored_at"] = pd.to_datetime(raw["scored_at"], utc=True, format="ISO8601")
    return raw


def _fetched(statement) -> pd.DataFrame:
    """The rows by SQLAlchemy Core, in partitions: ids as nullable integers, scored_at in UTC."""
    columns: dict[str, list] = {name: [] for name in _RAW_COLUMNS}
    result = db.session.execute(statement.execution_options(yield_per=PARTITION))
    for partition in result.partitions():
        for name, values in zip(_RAW_COLUMNS, zip(*partition, strict=True), strict=True):
            columns[name].extend(values)
    raw = pd.DataFrame({name: pd.Series(columns[name], dtype="Int64") if name in _ID_COLUMNS
                        else columns[name] for name in _RAW_COLUMNS})
    raw["scored_at"] = pd.to_datetime([_utc(t) for t in columns["scored_at"]], utc=True)
    return raw


def _codes(prefix: str, ids: pd.Series) -> pd.Series:
    """The codes of a column of ids (as rater_code, school_code, criterion_code make them),
    None where there is no id."""
    return (prefix + ids.astype("str")).where(ids.notna(), None)


def _table(raw: pd.DataFrame) -> pd.DataFrame:
    table = pd.DataFrame({
        "rater": _codes(RATER, raw["rater_id"]),
        "sample": raw["sample"],
        "criterion": _codes(CRITERION, raw["criterion_id"]),
        "score": raw["score"].astype("int64"),
        "scored_at": raw["scored_at"],
        "rater_school": _codes(SCHOOL, raw["rater_school_id"]),
        "sample_school": _codes(SCHOOL, raw["sample_school_id"]),
        "kind": raw["kind"],
    }, columns=list(COLUMNS))
    table["kind_order"] = table["kind"].map(KIND_ORDER)
    table = table.sort_values(SORT_COLUMNS, kind="stable", na_position="first")
    return table.drop(columns="kind_order").reset_index(drop=True)


def _utc(moment: datetime | str | None) -> datetime | None:
    """SQLite hands back naive times (stored as UTC) and, through a UNION, may hand back text."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
