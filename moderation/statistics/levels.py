"""The scores a rubric allows: one level set for every criterion, or each criterion's own.

Without a level set any whole number is taken as a score, so a typo (99 for 4, -3, a 0 on a 1-4
rubric) would enter every figure silently. With one, table.validate_ratings refuses each score
outside it, naming the line. Two sources: a list such as "1,2,3,4" (the command's --levels),
or the project's rubric JSON (--rubric; the format `flask rubrics export` writes, see README,
"Rubrics"), whose criteria are matched to the table's by name and may have different levels.

Reads the rubric file with the standard json module only: the rubrics package's own parser
needs the database models, and this package stays pure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

RUBRIC_FORMAT = "calibrate-rubric"


class LevelsError(ValueError):
    """A level list or rubric file that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class ScoreLevels:
    """The allowed scores.

    every: the levels of every criterion (from a list), or None.
    criteria: by criterion name, that criterion's levels (from a rubric); a criterion not named
        here is not in the rubric. Empty when `every` is given.
    source: where the levels come from, for messages ("--levels", or the rubric's title).
    """

    every: tuple[int, ...] | None = None
    criteria: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    source: str = "--levels"

    @classmethod
    def parse(cls, text: str) -> ScoreLevels:
        """Levels from "1,2,3,4" (whole numbers, commas, spaces allowed; any order)."""
        parts = [part.strip() for part in text.split(",")]
        if not all(parts):
            raise LevelsError(f"{text!r} is not a list of levels such as 1,2,3,4")
        try:
            levels = [_whole(part) for part in parts]
        except ValueError:
            raise LevelsError(f"{text!r}: each level must be a whole number, as in 1,2,3,4") \
                from None
        if len(set(levels)) < 2:
            raise LevelsError(f"{text!r}: give at least two different levels, as in 1,2,3,4")
        return cls(every=tuple(sorted(set(levels))))

    @classmethod
    def from_rubric(cls, source: str | Path | IO) -> ScoreLevels:
        """Each criterion's levels from a rubric JSON file (path or text buffer).

        Raises LevelsError naming the problem: not JSON, not a rubric, a criterion without a
        name or levels, a level without a whole-number score, two criteria of one name.
        OSError (a missing file) passes through, for the caller to word.
        """
        try:
            if isinstance(source, str | Path):
                with open(source, encoding="utf-8-sig") as handle:
                    document = json.load(handle)
            else:
                document = json.load(source)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise LevelsError(f"not a rubric JSON file ({error})") from None
        if not isinstance(document, dict) or not isinstance(document.get("criteria"), list):
            raise LevelsError("not a rubric JSON file: it needs a \"criteria\" list (export "
                              "one with `flask rubrics export`)")
        if document.get("format", RUBRIC_FORMAT) != RUBRIC_FORMAT:
            raise LevelsError(f"\"format\" is {document['format']!r}, not "
                              f"{RUBRIC_FORMAT!r}")
        criteria: dict[str, tuple[int, ...]] = {}
        for index, criterion in enumerate(document["criteria"], 1):
            name, levels = _criterion(criterion, index)
            if name in criteria:
                raise LevelsError(f"criterion {index}: the name {name!r} appears twice, so its "
                                  "scores could not be matched")
            criteria[name] = levels
        if not criteria:
            raise LevelsError("the rubric has no criteria")
        title = document.get("title")
        return cls(criteria=criteria,
                   source=f"rubric {title.strip()!r}" if isinstance(title, str) and
                   title.strip() else "the rubric")

    def of(self, criterion: str) -> tuple[int, ...] | None:
        """The criterion's levels; None when it is not in the rubric."""
        return self.every if self.every is not None else self.criteria.get(criterion)

    def describe(self, criterion: str) -> str:
        """Where the criterion's levels come from and what they are, for an error message."""
        levels = _listing(self.of(criterion) or ())
        if self.every is not None:
            return f"--levels gives {levels}"
        return f"criterion {criterion!r} in {self.source} has levels {levels}"


def _criterion(raw, index: int) -> tuple[str, tuple[int, ...]]:
    where = f"criterion {index}"
    if not isinstance(raw, dict):
        raise LevelsError(f"{where} must be an object with a \"name\" and \"levels\"")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise LevelsError(f"{where} has no \"name\"")
    where = f"criterion {index} ({name.strip()!r})"
    levels = raw.get("levels")
    if not isinstance(levels, list) or not levels:
        raise LevelsError(f"{where} has no \"levels\" list")
    scores = []
    for number, level in enumerate(levels, 1):
        score = level.get("score") if isinstance(level, dict) else None
        if isinstance(score, bool) or not isinstance(score, int):
            raise LevelsError(f"{where}, level {number}: \"score\" must be a whole number")
        scores.append(score)
    return name.strip(), tuple(sorted(set(scores)))


def _whole(text: str) -> int:
    number = float(text)
    if not number.is_integer():
        raise ValueError(text)
    return int(number)


def _listing(levels: tuple[int, ...]) -> str:
    return ", ".join(str(level) for level in levels)
