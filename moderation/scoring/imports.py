"""A past moderation's spreadsheet becomes a closed historical round (`flask ratings import`).

The file is the statistics engine's ratings table (moderation.statistics.table: CSV, or the
same columns in the first sheet of an XLSX workbook), validated by the engine's own
validate_ratings against the rubric version's criteria and levels. Then everything the file
names is resolved against the district before anything is written: schools by name (an unknown
one is refused with its near matches, unless the import may create schools), raters by email
or by code, each sample's school. Any problem refuses the whole file (ImportRefused, naming its
line), so a failed import saves nothing.

What is written, in a few bulk statements however large the file (a million ratings import in
well under a minute on PostgreSQL, see benchmarks/ratings_import.py):
- new raters as teachers of their school, without a password, to be invited like anyone else;
  a rater known by a code rather than an email gets a placeholder address under
  PLACEHOLDER_DOMAIN, which the administrator replaces before inviting them;
- each sample as external work (WorkSample.is_external): no file, archived from the start so
  no list, queue or anchor pool offers it, its id in the file kept as external_label;
- `reference` rows as the agreed scores of the sample's anchor (calibration pool);
- `blind` and `local` rows as ratings in the round's context (a rating revised in the file, the
  same key at a later time, keeps its earlier rows as no longer current);
- the round itself: closed, historical, with the file's name; an audit event says what came in.

It lives in scoring, which owns rounds and sits above every package it fills (accounts,
rubrics, ratings, samples), so the dependencies still point one way; `flask ratings import`
(moderation/ratings/cli.py) calls it.
"""

from __future__ import annotations

import difflib
import io
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import text

from moderation.accounts import schools as school_services
from moderation.accounts.models import District, Membership, Role, School, User
from moderation.accounts.people import EMAIL_PATTERN, PLACEHOLDER_DOMAIN
from moderation.accounts.roster.models import LinkKind, RosterLink
from moderation.accounts.services import grant_role
from moderation.core import audit
from moderation.core.db import utcnow
from moderation.core.extensions import db
from moderation.ratings.models import Rating, RatingKind
from moderation.samples.models import Anchor, AnchorPool, AnchorScore, SampleStatus, WorkSample
from moderation.samples.services import new_codes
from moderation.scoring.models import RoundRater, RoundStatus, ScoringRound
from moderation.statistics.levels import ScoreLevels
from moderation.statistics.table import RatingsFileError, read_table, validate_ratings
from rubrics import services as rubric_services
from rubrics.models import RubricVersion

CHUNK = 900  # values per IN (...) list, under SQLite's limit on bound parameters
BATCH = 10_000  # rows per executemany where COPY is not available


class ImportRefused(ValueError):
    """The file cannot become a round; nothing was saved. The message names the line where
    there is one ("line 17: ...")."""


@dataclass
class ImportResult:
    """What an import made, and how long each step took (seconds, by step name)."""

    round: ScoringRound
    ratings: int
    local_ratings: int
    raters: int
    new_raters: int
    samples: int
    anchors: int
    new_schools: list[str]
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Rater:
    key: str  # as written in the file
    email: str
    name: str


class _Clock:
    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._since = time.perf_counter()

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.seconds[step] = self.seconds.get(step, 0.0) + now - self._since
        self._since = now


def rubric_levels(version: RubricVersion) -> ScoreLevels:
    """The version's criteria by name with their level scores, for validate_ratings."""
    return ScoreLevels(criteria={c.name: tuple(sorted(level.score for level in c.levels))
                                 for c in version.criteria},
                       source=f"rubric {version.rubric.title!r} version {version.number}")


def read_ratings(path: str | Path, levels: ScoreLevels) -> pd.DataFrame:
    """The validated table of a CSV or XLSX file (by its extension), indexed by file line
    less 2 (row i was on line i + 2, as the engine counts, blank lines skipped); ImportRefused
    naming the line of the first problem."""
    try:
        cells = (_xlsx_frame(path) if Path(path).suffix.lower() == ".xlsx"
                 else read_table(str(path)))
        table = validate_ratings(cells, levels)
    except RatingsFileError as error:
        raise ImportRefused(str(error)) from None
    if table.empty:
        raise ImportRefused("the file has a header but no ratings")
    # Same rows in the same order: give them back their lines, for the checks that follow.
    table.index = cells.index
    return table


def _xlsx_frame(path: str | Path) -> pd.DataFrame:
    """The first sheet as text cells under its header row, indexed so that row i is line
    i + 2 (as validate_ratings counts); empty rows dropped, their lines kept."""
    from openpyxl import load_workbook  # only an XLSX import needs it

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises zipfile, KeyError, ... for a bad workbook
        raise ImportRefused(f"not a readable XLSX workbook ({error})") from None
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    if not rows:
        raise ImportRefused("line 1: no header: the first row must name the columns")
    header = ["" if cell is None else str(cell).strip() for cell in rows[0]]
    width = len(header)
    cells = [[_cell_text(cell) for cell in (list(row) + [None] * width)[:width]]
             for row in rows[1:]]
    frame = pd.DataFrame(cells, columns=header, dtype="str")
    frame = frame.loc[:, [name != "" for name in header]]
    return frame.loc[(frame != "").any(axis=1)]


def _cell_text(cell) -> str:
    """A cell as the text a CSV would hold: whole-number floats without their .0 (that is how
    spreadsheets store 3), times in ISO 8601."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if hasattr(cell, "isoformat"):
        return cell.isoformat()
    return str(cell)


def import_round(district: District, version: RubricVersion, path: str | Path, name: str, *,
                 create_schools: bool = False) -> ImportResult:
    """Check the whole file, then write the historical round (see the module docstring).
    Flushes only; the caller commits. Raises ImportRefused before writing anything."""
    clock = _Clock()
    name = _round_name(district, name)
    table = read_ratings(path, rubric_levels(version))
    clock.lap("read and validate")
    schools, missing_schools = _schools(district, table, create_schools)
    sample_schools = _sample_schools(table)
    raters, new_raters = _raters(district, table)
    joining = _joining_schools(district, table, raters, new_raters)
    clock.lap("people and schools: check")

    now = utcnow()
    for school_name in missing_schools:
        schools[school_name] = school_services.create_school(district, None, school_name,
                                                             None, {})
    user_ids = _write_raters(district, raters, new_raters,
                             {key: schools[name] for key, name in joining.items()}, now)
    clock.lap("people and schools: write")
    scoring_round = _write_round(district, version, table, name, Path(path).name, now)
    _write_pool(scoring_round, table, user_ids, schools)
    sample_ids = _write_samples(table, sample_schools, schools, scoring_round, version, now)
    anchors = _write_anchors(table, sample_ids, version, Path(path).name, now)
    clock.lap("samples and anchors")
    counts = _write_ratings(table, user_ids, sample_ids, version, scoring_round, now)
    n_raters, n_new = len(set(user_ids.values())), len({r.email for r in new_raters})
    rubric_services.freeze_version(version, reason=f"past moderation imported: {name}")
    audit.record("ratings_imported", obj=scoring_round, district=district, name=name,
                 file=Path(path).name, rubric_version_id=version.id,
                 ratings=counts["total"], local=counts["local"], raters=n_raters,
                 new_raters=n_new, samples=len(sample_ids), anchors=anchors,
                 new_schools=missing_schools)
    db.session.flush()
    clock.lap("ratings insert")
    return ImportResult(round=scoring_round, ratings=counts["total"], local_ratings=counts["local"],
                        raters=n_raters, new_raters=n_new, samples=len(sample_ids),
                        anchors=anchors, new_schools=missing_schools, seconds=clock.seconds)


# --- checks (nothing written) --------------------------------------------------------------------

def _round_name(district: District, name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ImportRefused("Give the round a name (--name).")
    if len(name) > 200:
        raise ImportRefused("Keep the round's name under 200 characters.")
    taken = db.session.scalar(db.select(ScoringRound.id).where(
        ScoringRound.district_id == district.id, ScoringRound.name == name))
    if taken is not None:
        raise ImportRefused(f"{district.name} already has a round called “{name}” (round "
                            f"{taken}); an imported file becomes a round once: choose another "
                            "--name if this is a different moderation.")
    return name


def _first_line(table: pd.DataFrame, mask) -> int:
    """The file line of the first row where `mask` holds (read_ratings indexes each row by
    its line less 2)."""
    return int(table.index[np.argmax(np.asarray(mask))]) + 2


def _schools(district: District, table: pd.DataFrame, create: bool
             ) -> tuple[dict[str, School], list[str]]:
    """The district's schools by name, and the names the file uses that none has (to create,
    with `create`; otherwise refused with the near matches)."""
    existing = {s.name: s for s in db.session.execute(
        db.select(School).where(School.district_id == district.id)).scalars()}
    named = pd.concat([table["rater_school"], table["sample_school"]]).dropna().unique()
    missing = sorted(set(named) - set(existing))
    if missing and not create:
        at_sample = table["sample_school"].isin(missing)
        unknowns = table["sample_school"].where(at_sample, table["rater_school"])
        first = at_sample | table["rater_school"].isin(missing)
        line, unknown = _first_line(table, first), unknowns[first].iloc[0]
        near = difflib.get_close_matches(unknown, list(existing), n=3)
        hint = (f"did you mean {_quoted(near)}? " if near else "")
        raise ImportRefused(f"line {line}: {district.name} has no school called {unknown!r}; "
                            f"{hint}Correct the name, or pass --create-schools to create the "
                            f"{_count(len(missing), 'missing school')} on purpose.")
    return existing, missing


def _sample_schools(table: pd.DataFrame) -> pd.Series:
    """Each sample's school (sample -> school name): named on at least one of its lines, and
    the same on all of them."""
    pairs = table.loc[table["sample_school"].notna(), ["sample", "sample_school"]]
    pairs = pairs.drop_duplicates()
    torn = pairs["sample"].duplicated()
    if torn.any():
        sample = pairs["sample"][torn].iloc[0]
        schools = pairs.loc[pairs["sample"] == sample, "sample_school"]
        line = _first_line(table, (table["sample"] == sample)
                           & (table["sample_school"] == schools.iloc[1]))
        raise ImportRefused(f"line {line}: sample {sample!r} is from {schools.iloc[1]!r} here "
                            f"but from {schools.iloc[0]!r} on an earlier line; a sample has "
                            "one school")
    known = pairs.set_index("sample")["sample_school"]
    without = ~table["sample"].isin(known.index)
    if without.any():
        line = _first_line(table, without)
        raise ImportRefused(f"line {line}: sample {table['sample'][without].iloc[0]!r} has no "
                            "sample_school on any line; every sample of an imported round "
                            "belongs to one of the district's schools")
    return known


def _raters(district: District, table: pd.DataFrame) -> tuple[dict[str, User], list[_Rater]]:
    """Raters the district already has (file key -> user) and the new ones. A key with an @
    is an email; any other is a code, looked up among the district's roster ids and then the
    placeholder addresses of earlier imports."""
    keys = list(table["rater"].dropna().unique())
    raters: dict[str, _Rater] = {}
    for key in keys:
        if "@" in key:
            email = key.lower()
            if not EMAIL_PATTERN.match(email) or len(email) > 254:
                line = _first_line(table, table["rater"] == key)
                raise ImportRefused(f"line {line}: rater {key!r} is not an email address, "
                                    "nor a code (a code has no @)")
            raters[key] = _Rater(key, email, email.split("@")[0])
        else:
            raters[key] = _Rater(key, placeholder_email(district, key), key)
    by_code = _roster_people(district, [k for k in keys if "@" not in k])
    by_email = _users_by_email([r.email for r in raters.values()])
    found, new = {}, []
    for key, rater in raters.items():
        user = by_code.get(key) or by_email.get(rater.email)
        if user is None:
            new.append(rater)
        else:
            found[key] = user
    return found, new


def placeholder_email(district: District, code: str) -> str:
    """The address of a rater known by `code` in the district's files until they get theirs."""
    local = re.sub(r"[^a-z0-9]+", "-", code.lower()).strip("-") or "rater"
    return f"{local}.d{district.id}@{PLACEHOLDER_DOMAIN}"


def _roster_people(district: District, codes: list[str]) -> dict[str, User]:
    found = {}
    for chunk in _chunks(codes):
        found |= dict(db.session.execute(
            db.select(RosterLink.source_id, User).join(User, User.id == RosterLink.user_id)
            .where(RosterLink.district_id == district.id, RosterLink.kind == LinkKind.PERSON,
                   RosterLink.source_id.in_(chunk))).all())
    return found


def _users_by_email(emails: list[str]) -> dict[str, User]:
    found = {}
    for chunk in _chunks(emails):
        found |= {u.email: u for u in db.session.execute(
            db.select(User).where(User.email.in_(chunk))).scalars()}
    return found


def _chunks(values: list) -> Iterable[list]:
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


def _quoted(names: list[str]) -> str:
    quoted = [repr(name) for name in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


# --- writes --------------------------------------------------------------------------------------

def _write_raters(district: District, found: dict[str, User], new: list[_Rater],
                  joining: dict[str, School], now) -> dict[str, int]:
    """Every rater's user id by file key: the new ones created as teachers of their school
    (in bulk), existing ones without a role in the district given one."""
    for key, user in found.items():
        if key in joining:
            grant_role(user, Role.TEACHER, district, joining[key])
    ids = {key: user.id for key, user in found.items()}
    if not new:
        return ids
    # One person per address: Ann@x.org and ann@x.org in one file are the same rater.
    people = list({r.email: r for r in new}.values())
    db.session.execute(db.insert(User), [
        {"email": r.email, "display_name": r.name, "session_version": 1, "created_at": now}
        for r in people])
    by_email = {u.email: u.id for u in _users_by_email([r.email for r in people]).values()}
    ids |= {r.key: by_email[r.email] for r in new}
    db.session.execute(db.insert(Membership), [
        {"user_id": by_email[r.email], "role": Role.TEACHER, "district_id": district.id,
         "school_id": joining[r.key].id} for r in people])
    audit.record_many("rater_imported", object_type="User", district_id=district.id, items=[
        (by_email[r.email], {"email": r.email, "key": r.key, "school_id": joining[r.key].id})
        for r in people])
    return ids


def _joining_schools(district: District, table: pd.DataFrame, found: dict[str, User],
                     new: list[_Rater]) -> dict[str, str]:
    """The school (by name) of each rater who joins the district as a teacher: the new ones
    and those without a role in it, each at the rater_school they appear with most often."""
    pairs = table.loc[table["rater"].notna() & table["rater_school"].notna(),
                      ["rater", "rater_school"]]
    counts = pairs.value_counts().reset_index()
    school_of = dict(counts.drop_duplicates("rater").set_index("rater")["rater_school"])
    joining = [r.key for r in new] + [
        key for key, user in found.items()
        if not any(m.district_id == district.id for m in user.memberships)]
    for key in joining:
        if key not in school_of:
            line = _first_line(table, table["rater"] == key)
            raise ImportRefused(f"line {line}: rater {key!r} is new to {district.name} and "
                                "has no rater_school on any line; a rater joins the district "
                                "as a teacher of their school")
    return {key: school_of[key] for key in joining}


def _times(table: pd.DataFrame):
    known = table["scored_at"].dropna()
    return (known.min().to_pydatetime(), known.max().to_pydatetime()) if len(known) else (None,
                                                                                         None)


def _write_round(district: District, version: RubricVersion, table: pd.DataFrame, name: str,
                 file_name: str, now) -> ScoringRound:
    blind = table.loc[table["kind"] == "blind"]
    per_sample = blind.drop_duplicates(["sample", "rater"])["sample"].value_counts()
    first, last = _times(table)
    scoring_round = ScoringRound(
        district_id=district.id, rubric_version_id=version.id, name=name,
        status=RoundStatus.CLOSED, is_historical=True, source_file=file_name[:255],
        ratings_per_sample=int(per_sample.mode().iloc[0]) if len(per_sample) else 0,
        validity_rate=0.0, calibration_size=int((table["kind"] == "reference").any()
                                                and table.loc[table["kind"] == "reference",
                                                              "sample"].nunique()),
        seed=0, design={}, opened_at=first or now, closed_at=max(last or now, first or now))
    db.session.add(scoring_round)
    db.session.flush()
    return scoring_round


def _write_pool(scoring_round: ScoringRound, table: pd.DataFrame, user_ids: dict[str, int],
                schools: dict[str, School]) -> None:
    """The round's pool: each rater at the school they scored for on most of their lines (the
    school the analysis counts them in), or none where the file names no rater_school."""
    named = table.loc[table["rater"].notna() & table["rater_school"].notna(),
                      ["rater", "rater_school"]]
    school_of = (named.value_counts().reset_index().drop_duplicates("rater")
                 .set_index("rater")["rater_school"])
    pool: dict[int, int | None] = {}
    for key, user_id in user_ids.items():
        school = schools.get(school_of.get(key))
        pool.setdefault(user_id, school.id if school is not None else None)
    db.session.execute(db.insert(RoundRater), [
        {"round_id": scoring_round.id, "user_id": user_id, "school_id": school_id}
        for user_id, school_id in pool.items()])


def _write_samples(table: pd.DataFrame, sample_schools: pd.Series, schools: dict[str, School],
                   scoring_round: ScoringRound, version: RubricVersion, now) -> dict[str, int]:
    """Each sample as external work; its id by its label in the file."""
    labels = list(table["sample"].unique())
    codes = new_codes(len(labels))
    school_ids = {name: school.id for name, school in schools.items()}
    bulk_insert(WorkSample, pd.DataFrame({
        "code": codes, "school_id": sample_schools[labels].map(school_ids).to_numpy(),
        "rubric_version_id": version.id, "title": scoring_round.name,
        "status": SampleStatus.ARCHIVED.value, "archived_at": pd.Timestamp(now),
        "is_external": True, "external_label": [label[:200] for label in labels],
        "storage_key": "", "size": 0, "content_type": "", "checksum_sha256": "",
        "page_count": 0, "created_at": pd.Timestamp(now)}))
    id_of = {}
    for chunk in _chunks(codes):
        id_of |= dict(db.session.execute(
            db.select(WorkSample.code, WorkSample.id).where(WorkSample.code.in_(chunk))).all())
    return {label: id_of[code] for code, label in zip(codes, labels, strict=True)}


def _criterion_ids(version: RubricVersion) -> dict[str, int]:
    return {c.name: c.id for c in version.criteria}


def _write_anchors(table: pd.DataFrame, sample_ids: dict[str, int], version: RubricVersion,
                   file_name: str, now) -> int:
    """The reference rows as anchors' agreed scores (the latest per sample and criterion)."""
    reference = _latest_first(table.loc[table["kind"] == "reference"])
    reference = reference.drop_duplicates(["sample", "criterion"])
    if reference.empty:
        return 0
    samples = list(reference["sample"].unique())
    db.session.execute(db.insert(Anchor), [
        {"sample_id": sample_ids[s], "rubric_version_id": version.id,
         "pool": AnchorPool.CALIBRATION, "created_at": now} for s in samples])
    anchor_of = {}
    for chunk in _chunks([sample_ids[s] for s in samples]):
        anchor_of |= dict(db.session.execute(
            db.select(Anchor.sample_id, Anchor.id).where(
                Anchor.sample_id.in_(chunk), Anchor.rubric_version_id == version.id)).all())
    criteria = _criterion_ids(version)
    db.session.execute(db.insert(AnchorScore), [
        {"anchor_id": anchor_of[sample_ids[row.sample]], "criterion_id": criteria[row.criterion],
         "score": int(row.score), "rationale": f"Agreed score imported from {file_name}."}
        for row in reference.itertuples()])
    return len(samples)


def _latest_first(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows by time, latest first (unknown times last, then later lines first), so that
    keeping the first of each key keeps its latest revision."""
    ordered = rows.iloc[::-1]
    return ordered.sort_values("scored_at", ascending=False, kind="stable", na_position="last")


def _write_ratings(table: pd.DataFrame, user_ids: dict[str, int], sample_ids: dict[str, int],
                   version: RubricVersion, scoring_round: ScoringRound, now) -> dict[str, int]:
    """The blind and local rows as ratings of the round (one bulk load)."""
    rows = table.loc[table["kind"] != "reference"]
    latest = _latest_first(rows).drop_duplicates(["kind", "rater", "sample", "criterion"])
    submitted = rows["scored_at"].dt.tz_convert("UTC").fillna(pd.Timestamp(now))
    frame = pd.DataFrame({
        "rater_id": rows["rater"].map(user_ids).astype("int64"),
        "sample_id": rows["sample"].map(sample_ids).astype("int64"),
        "criterion_id": rows["criterion"].map(_criterion_ids(version)).astype("int64"),
        "rubric_version_id": version.id,
        "score": rows["score"].astype("int64"),
        "kind": rows["kind"].map({"blind": RatingKind.BLIND.value,
                                  "local": RatingKind.LOCAL.value}),
        "context_type": "round",
        "context_id": scoring_round.id,
        "created_at": pd.Timestamp(now),
        "submitted_at": submitted,
        "is_current": rows.index.isin(latest.index),
    })
    bulk_insert(Rating, frame)
    if db.session.connection().dialect.name == "postgresql":
        # Statistics for the rows just loaded (PostgreSQL's advice after a bulk load): until
        # autovacuum gets to them, the planner would take the round's million ratings for a
        # handful and pick plans for a handful, the report pages' included (seconds, not ms).
        db.session.execute(text(f"ANALYZE {Rating.__tablename__}"))
    return {"total": len(frame), "local": int((rows["kind"] == "local").sum())}


def bulk_insert(model, frame: pd.DataFrame) -> None:
    """Insert the rows of `frame` (columns named as the model's) in the session's transaction:
    by COPY on PostgreSQL (a million ratings in seconds), by executemany in batches elsewhere.
    Times are UTC-aware timestamps."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        buffer = io.BytesIO()
        # Arrow's writer: about ten times pandas' to_csv on timestamps; writes ISO times with
        # a Z, true/false, and an empty unquoted field for a missing value (NULL to COPY).
        pa_csv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), buffer,
                         pa_csv.WriteOptions(include_header=False, quoting_style="needed"))
        columns = ", ".join(frame.columns)
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {model.__tablename__} ({columns}) FROM STDIN "
                         "WITH (FORMAT csv)") as copy:
            copy.write(buffer.getbuffer())
        return
    times = [name for name in frame.columns if isinstance(frame[name].dtype,
                                                          pd.DatetimeTZDtype)]
    records = frame.assign(**{name: frame[name].dt.to_pydatetime() for name in times}
                           ).to_dict("records")
    for start in range(0, len(records), BATCH):
        connection.execute(db.insert(model), records[start:start + BATCH])
