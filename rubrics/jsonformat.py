"""The rubric JSON file: what export writes and import reads.

    {
      "format": "calibrate-rubric", "format_version": 1,
      "title": "Argumentative Writing", "subject": "English Language Arts", "grade_band": "9-10",
      "description": "...", "version": 2, "change_note": "...",
      "criteria": [
        {"name": "Claim", "description": "...", "student_friendly": "...",
         "standard_codes": ["W.9-10.1a"],
         "levels": [
           {"score": 1, "label": "Beginning", "descriptor": "...", "student_friendly": "...",
            "proficient": false},
           ...]}]
    }

Criteria keep the order of the file; levels are ordered by score. "version" is informational:
an import always creates version 1 of a new rubric, or the next version of an existing one.
Optional keys may be left out or null; unknown keys are ignored. parse() reports every problem
it finds, each naming where it is ("Criterion 2 (“Evidence”), level 3: ...").
"""

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from rubrics.errors import RubricFormatError
from rubrics.models import Criterion, Level, Rubric, RubricVersion

FORMAT = "calibrate-rubric"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 1024 * 1024
MAX_CRITERIA = 30
MAX_LEVELS = 10
MIN_SCORE, MAX_SCORE = 0, 100
# JSON escapes can spell characters no database column stores: NUL (PostgreSQL text refuses
# it) and lone UTF-16 surrogates (not encodable as UTF-8, RFC 8259 section 8.2).
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")


def _length(column) -> int:
    return column.type.length


@dataclass(frozen=True)
class LevelDoc:
    score: int
    label: str
    descriptor: str
    student_friendly: str | None = None
    is_proficient: bool = False


@dataclass(frozen=True)
class CriterionDoc:
    name: str
    levels: tuple[LevelDoc, ...]
    description: str | None = None
    student_friendly: str | None = None
    standard_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RubricDoc:
    title: str
    subject: str
    grade_band: str
    criteria: tuple[CriterionDoc, ...]
    description: str | None = None
    change_note: str | None = None


# --- export ---------------------------------------------------------------------------------

def to_document(version: RubricVersion) -> dict[str, Any]:
    """The JSON-ready document for one version of a rubric."""
    rubric = version.rubric
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "title": rubric.title,
        "subject": rubric.subject,
        "grade_band": rubric.grade_band,
        "description": rubric.description,
        "version": version.number,
        "change_note": version.change_note,
        "criteria": [
            {
                "name": c.name,
                "description": c.description,
                "student_friendly": c.student_friendly,
                "standard_codes": c.standard_code_list,
                "levels": [
                    {"score": lv.score, "label": lv.label, "descriptor": lv.descriptor,
                     "student_friendly": lv.student_friendly, "proficient": lv.is_proficient}
                    for lv in c.levels
                ],
            }
            for c in version.criteria
        ],
    }


def dumps(version: RubricVersion) -> str:
    return json.dumps(to_document(version), indent=2, ensure_ascii=False) + "\n"


def download_name(version: RubricVersion) -> str:
    # ASCII only (accents dropped): the name travels in a Content-Disposition header.
    ascii_title = unicodedata.normalize("NFKD", version.rubric.title).encode(
        "ascii", "ignore").decode().lower()
    slug = "".join(ch if ch.isalnum() else "-" for ch in ascii_title)
    slug = "-".join(part for part in slug.split("-") if part) or "rubric"
    return f"{slug}-v{version.number}.json"


# --- import ---------------------------------------------------------------------------------

class _Reader:
    """Collects problems while reading, so one upload reports everything wrong with it."""

    def __init__(self):
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}" if where else message)

    def text(self, obj: dict, key: str, where: str, *, max_length: int,
             required: bool = True) -> str | None:
        value = obj.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problem(where, f"“{key}” is missing or empty.")
            return None
        if not isinstance(value, str):
            self.problem(where, f"“{key}” must be text, not {_kind(value)}.")
            return None
        value = value.strip()
        if _NOT_TEXT.search(value):
            self.problem(where, f"“{key}” holds a character that is not text (a NUL or a "
                                "lone surrogate escape such as \\ud800); remove it.")
            return None
        if len(value) > max_length:
            self.problem(where, f"“{key}” is {len(value)} characters long; the limit is "
                                f"{max_length}.")
            return None
        return value

    def standard_codes(self, obj: dict, where: str) -> tuple[str, ...]:
        value = obj.get("standard_codes")
        if value is None:
            return ()
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(where, "“standard_codes” must be a list of codes such as "
                                "[\"W.9-10.1\", \"W.9-10.1a\"].")
            return ()
        if any(_NOT_TEXT.search(v) for v in value):
            self.problem(where, "“standard_codes” holds a character that is not text (a NUL "
                                "or a lone surrogate escape); remove it.")
            return ()
        codes = tuple(dict.fromkeys(v.strip() for v in value if v.strip()))
        limit = _length(Criterion.__table__.c.standard_codes)
        if len(", ".join(codes)) > limit:
            self.problem(where, f"the standard codes together exceed {limit} characters.")
            return ()
        return codes


def _kind(value: Any) -> str:
    return {bool: "true/false", int: "a number", float: "a number", list: "a list",
            dict: "an object", str: "text"}.get(type(value), type(value).__name__)


def _criterion_where(index: int, raw: Any) -> str:
    name = raw.get("name") if isinstance(raw, dict) else None
    # The name goes into a message that is printed and rendered: no unprintable characters.
    name = _NOT_TEXT.sub("\ufffd", name) if isinstance(name, str) else name
    named = f" (“{name.strip()[:60]}”)" if isinstance(name, str) and name.strip() else ""
    return f"Criterion {index}{named}"


def _level(reader: _Reader, raw: Any, where: str) -> LevelDoc | None:
    if not isinstance(raw, dict):
        reader.problem(where, f"each level must be an object, not {_kind(raw)}.")
        return None
    score = raw.get("score")
    if isinstance(score, bool) or not isinstance(score, int):
        reader.problem(where, "“score” must be a whole number such as 1, 2, 3 or 4."
                       if score is not None else "“score” is missing.")
        score = None
    elif not MIN_SCORE <= score <= MAX_SCORE:
        reader.problem(where, f"“score” must be between {MIN_SCORE} and {MAX_SCORE}.")
        score = None
    label = reader.text(raw, "label", where, max_length=_length(Level.__table__.c.label))
    descriptor = reader.text(raw, "descriptor", where, max_length=20_000)
    student = reader.text(raw, "student_friendly", where, max_length=20_000, required=False)
    proficient = raw.get("proficient", False)
    if not isinstance(proficient, bool):
        reader.problem(where, "“proficient” must be true or false.")
        proficient = False
    if score is None or label is None or descriptor is None:
        return None
    return LevelDoc(score=score, label=label, descriptor=descriptor, student_friendly=student,
                    is_proficient=proficient)


def _criterion(reader: _Reader, raw: Any, index: int) -> CriterionDoc | None:
    where = _criterion_where(index, raw)
    if not isinstance(raw, dict):
        reader.problem(where, f"each criterion must be an object, not {_kind(raw)}.")
        return None
    name = reader.text(raw, "name", where, max_length=_length(Criterion.__table__.c.name))
    description = reader.text(raw, "description", where, max_length=20_000, required=False)
    student = reader.text(raw, "student_friendly", where, max_length=20_000, required=False)
    codes = reader.standard_codes(raw, where)
    raw_levels = raw.get("levels")
    if not isinstance(raw_levels, list):
        reader.problem(where, "“levels” is missing; it must be a list of performance levels."
                       if raw_levels is None else "“levels” must be a list.")
        return None
    if len(raw_levels) < 2:
        reader.problem(where, "a criterion needs at least two performance levels.")
    if len(raw_levels) > MAX_LEVELS:
        reader.problem(where, f"a criterion can have at most {MAX_LEVELS} levels.")
        return None
    levels = [_level(reader, lv, f"{where}, level {i}") for i, lv in enumerate(raw_levels, 1)]
    if any(level is None for level in levels):
        return None
    scores = [level.score for level in levels]
    duplicates = sorted({s for s in scores if scores.count(s) > 1})
    if duplicates:
        reader.problem(where, "two levels share the score "
                       + ", ".join(str(s) for s in duplicates) + "; each score appears once.")
    n_proficient = sum(level.is_proficient for level in levels)
    if len(levels) >= 2 and n_proficient != 1:
        reader.problem(where, "exactly one level must be marked \"proficient\": true "
                              f"(this criterion has {n_proficient}).")
    if name is None or len(levels) < 2 or duplicates or n_proficient != 1:
        return None
    return CriterionDoc(name=name, description=description, student_friendly=student,
                        standard_codes=codes,
                        levels=tuple(sorted(levels, key=lambda lv: lv.score)))


class _NumberTooLong(ValueError):
    def __init__(self, digits: int):
        super().__init__(f"a number of {digits} digits")
        self.digits = digits


def _whole_number(text: str) -> int:
    # int() refuses more than 4,300 digits with a bare ValueError (Python's integer string
    # conversion limit); no rubric number needs more than a few.
    digits = len(text.lstrip("-"))
    if digits > 100:
        raise _NumberTooLong(digits)
    return int(text)


def parse(raw: bytes | str) -> RubricDoc:
    """Read a rubric file; raise RubricFormatError listing every problem found."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_FILE_BYTES:
            raise RubricFormatError([f"the file is larger than {MAX_FILE_BYTES // 1024} KB; a "
                                     "rubric file is usually a few kilobytes."])
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise RubricFormatError(["the file is not UTF-8 text. Export it again, or save it "
                                     "as UTF-8 JSON."]) from None
    if not raw.strip():
        raise RubricFormatError(["the file is empty."])
    try:
        data = json.loads(raw, parse_int=_whole_number)
    except _NumberTooLong as error:
        raise RubricFormatError([f"it holds a number of {error.digits} digits; scores are "
                                 f"whole numbers from {MIN_SCORE} to {MAX_SCORE}."]) from None
    except json.JSONDecodeError as error:
        raise RubricFormatError([f"it is not valid JSON ({error.msg} at line {error.lineno}, "
                                 f"column {error.colno})."]) from None
    except RecursionError:
        raise RubricFormatError(["it is nested too deeply to be a rubric."]) from None
    if not isinstance(data, dict):
        raise RubricFormatError([f"the file must hold one JSON object with “title” and "
                                 f"“criteria”, not {_kind(data)}."])
    return _document(data)


def _document(data: dict) -> RubricDoc:
    reader = _Reader()
    fmt = data.get("format", FORMAT)
    if fmt != FORMAT:
        reader.problem("", f"“format” is {fmt!r}; this is not a {FORMAT} file.")
    version = data.get("format_version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        reader.problem("", f"“format_version” {version!r} is not supported (this app reads "
                           f"version {FORMAT_VERSION}).")
    columns = Rubric.__table__.c
    title = reader.text(data, "title", "", max_length=_length(columns.title))
    subject = reader.text(data, "subject", "", max_length=_length(columns.subject))
    grade_band = reader.text(data, "grade_band", "", max_length=_length(columns.grade_band))
    description = reader.text(data, "description", "", max_length=20_000, required=False)
    change_note = reader.text(data, "change_note", "", required=False,
                              max_length=_length(RubricVersion.__table__.c.change_note))
    raw_criteria = data.get("criteria")
    criteria: list[CriterionDoc | None] = []
    if raw_criteria is None:
        reader.problem("", "“criteria” is missing; it must be a list of criteria.")
    elif not isinstance(raw_criteria, list):
        reader.problem("", f"“criteria” must be a list of criteria, not {_kind(raw_criteria)}.")
    elif not raw_criteria:
        reader.problem("", "“criteria” is empty; a rubric needs at least one criterion.")
    elif len(raw_criteria) > MAX_CRITERIA:
        reader.problem("", f"a rubric can have at most {MAX_CRITERIA} criteria.")
    else:
        criteria = [_criterion(reader, c, i) for i, c in enumerate(raw_criteria, 1)]
        names = [c.name for c in criteria if c is not None]
        folded = [n.casefold() for n in names]
        reported: set[str] = set()
        for name in names:
            key = name.casefold()
            if folded.count(key) > 1 and key not in reported:
                reported.add(key)
                reader.problem("", f"two criteria are both called “{name}”; criterion names "
                                   "must differ.")
    if reader.problems:
        raise RubricFormatError(reader.problems)
    return RubricDoc(title=title, subject=subject, grade_band=grade_band,
                     description=description, change_note=change_note,
                     criteria=tuple(criteria))
