"""Command line: `python -m moderation.statistics analyze FILE [options]` prints the analysis as
one JSON document (see analysis.analyze). A malformed file gets a message naming the line and
the problem on stderr and exit status 2, never a traceback. A Rasch fit that did not converge
(or had too little data) is reported in the JSON and, as a warning, on stderr (exit status 0:
the rest of the report stands)."""

from __future__ import annotations

import argparse
import json
import sys

from moderation.statistics.analysis import analyze
from moderation.statistics.equity import SchoolsFileError, load_schools, unmatched
from moderation.statistics.levels import LevelsError, ScoreLevels
from moderation.statistics.rasch import MODELS, RATING_SCALE
from moderation.statistics.reliability import (
    DEFAULT_BOOTSTRAP,
    LEVELS,
    LevelOfMeasurementError,
)
from moderation.statistics.table import RatingsFileError
from moderation.statistics.triggers import DEFAULT_THRESHOLDS, Thresholds

# Command-line options that override one threshold each (after --settings).
THRESHOLD_OPTIONS = {"fdr": "false_discovery_rate", "rater_severity": "rater_severity",
                     "rater_drift": "rater_drift", "bias_points": "bias_points",
                     "min_school_raters": "min_school_raters",
                     "min_school_samples": "min_school_samples"}

EXIT_BAD_INPUT = 2


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    arguments = _parser().parse_args(argv)
    levels = arguments.levels
    if arguments.rubric is not None:
        try:
            levels = ScoreLevels.from_rubric(arguments.rubric)
        except LevelsError as error:
            return _fail(f"{arguments.rubric}: {error}")
        except OSError as error:
            return _fail(f"{arguments.rubric}: cannot read the file ({error.strerror or error})")
    try:
        thresholds = _thresholds(arguments)
    except (ValueError, TypeError) as error:
        return _fail(f"{arguments.settings or 'thresholds'}: {error}")
    except OSError as error:
        return _fail(f"{arguments.settings}: cannot read the file ({error.strerror or error})")
    context = None
    if arguments.schools is not None:
        try:
            context = load_schools(arguments.schools)
        except SchoolsFileError as error:
            return _fail(f"{arguments.schools}: {error}")
        except OSError as error:
            return _fail(f"{arguments.schools}: cannot read the file "
                         f"({error.strerror or error})")
    try:
        report = analyze(arguments.file, level=arguments.level, bootstrap=arguments.bootstrap,
                         seed=arguments.seed, levels=levels, thresholds=thresholds,
                         schools=context, model=arguments.model)
    except (RatingsFileError, LevelOfMeasurementError) as error:
        return _fail(f"{arguments.file}: {error}")
    except OSError as error:
        return _fail(f"{arguments.file}: cannot read the file ({error.strerror or error})")
    _warn_about_the_fit(arguments.file, report["rasch"])
    if context is not None:
        _warn_about_unmatched(arguments.schools, report, context)
    return _write(report, arguments.out)


def _write(report: dict, out: str | None) -> int:
    """The report as one JSON document, on standard output or in the file `out`."""
    document = json.dumps(report, indent=2, allow_nan=False) + "\n"
    if out is None:
        sys.stdout.write(document)
        return 0
    try:
        with open(out, "w", encoding="utf-8") as file:
            file.write(document)
    except OSError as error:
        return _fail(f"{out}: cannot write the file ({error.strerror or error})")
    return 0


def _thresholds(arguments: argparse.Namespace) -> Thresholds:
    """The defaults, then a --settings file (a JSON object of Thresholds names, as a district's
    settings hold them), then the single-threshold options."""
    thresholds = DEFAULT_THRESHOLDS
    if arguments.settings is not None:
        with open(arguments.settings, encoding="utf-8") as file:
            try:
                settings = json.load(file)
            except json.JSONDecodeError as error:
                raise ValueError(f"not JSON ({error})") from None
        if not isinstance(settings, dict):
            raise ValueError("must be a JSON object of threshold names and numbers")
        thresholds = Thresholds.from_settings(settings)
    options = {name: getattr(arguments, option) for option, name in THRESHOLD_OPTIONS.items()
               if getattr(arguments, option) is not None}
    return Thresholds.from_settings(options, thresholds) if options else thresholds


def _warn_about_the_fit(file: str, rasch: dict) -> None:
    """The JSON carries the fit's status; a person at the terminal hears it too, since every
    rater and school figure built on the fit is null without it."""
    if rasch["status"] != "converged":
        print(f"warning: {file}: Rasch fit {rasch['status']}: rater severities, drift and "
              f"school standards are null. {rasch['message']}", file=sys.stderr)


def _warn_about_unmatched(file: str, report: dict, context) -> None:
    """Schools the equity analysis could not use, named at the terminal."""
    missing, unknown = unmatched([entry["school"] for entry in report["schools"]], context)
    if missing:
        print(f"warning: {file}: no row for {len(missing)} school(s) of the ratings, left out "
              f"of the equity analysis: {', '.join(missing)}", file=sys.stderr)
    if unknown:
        print(f"warning: {file}: {len(unknown)} school(s) not in the ratings: "
              f"{', '.join(unknown)}", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m moderation.statistics",
        description="Reliability, rater severity, drift and school standards from a ratings CSV.")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser(
        "analyze", help="analyse a ratings CSV and print the results as JSON",
        description="Analyse a ratings CSV (columns rater, sample, criterion, score; optional "
                    "scored_at, rater_school, sample_school, kind) and print one JSON document.")
    command.add_argument("file", help="the ratings CSV")
    command.add_argument("--level", choices=LEVELS, default="ordinal",
                         help="level of measurement for Krippendorff's alpha (default: ordinal)")
    command.add_argument("--model", choices=MODELS, default=RATING_SCALE,
                         help="the Rasch model: rating-scale (one set of thresholds for all "
                              "criteria) or partial-credit (each criterion its own; a "
                              "criterion that never uses a level keeps the rating-scale fit, "
                              "and the report says why) (default: rating-scale)")
    command.add_argument("--bootstrap", type=_count, default=DEFAULT_BOOTSTRAP, metavar="N",
                         help=f"bootstrap replicates for the alpha intervals "
                              f"(default: {DEFAULT_BOOTSTRAP})")
    command.add_argument("--seed", type=int, default=None, metavar="S",
                         help="random seed, to repeat a run exactly (default: a fresh one, "
                              "reported in the output)")
    command.add_argument("--schools", default=None, metavar="FILE",
                         help="a schools CSV (school, low_income_share as 0-1 or percent, "
                              "grade_band, any other numeric context columns): adds the "
                              "equity analysis of school findings against each context column")
    command.add_argument("-o", "--out", default=None, metavar="FILE",
                         help="write the JSON here instead of to standard output")
    allowed = command.add_mutually_exclusive_group()
    allowed.add_argument("--levels", type=_levels, default=None, metavar="LIST",
                         help="the rubric's levels, e.g. 1,2,3,4: any other score refuses the "
                              "file, naming its line (default: any whole number)")
    allowed.add_argument("--rubric", default=None, metavar="FILE",
                         help="a rubric JSON file (as `flask rubrics export` writes): each "
                              "criterion's scores must be among its levels, criteria matched "
                              "by name")
    findings = command.add_argument_group(
        "findings", "when a rater is named (defaults and sources: moderation.statistics."
                    "triggers.Thresholds; docs/methods.md, Triggers)")
    findings.add_argument("--settings", default=None, metavar="FILE",
                          help="a JSON object of thresholds, e.g. {\"false_discovery_rate\": "
                               "0.05, \"rater_severity\": 0.5, \"school_effect\": 0.3, "
                               "\"local_gap\": 0.25}; names not given keep their defaults")
    findings.add_argument("--fdr", type=float, default=None, metavar="Q",
                          help="false-discovery rate for rater findings (default: "
                               f"{DEFAULT_THRESHOLDS.false_discovery_rate}, Benjamini & "
                               "Hochberg 1995)")
    findings.add_argument("--rater-severity", type=float, default=None, metavar="LOGITS",
                          help="practical size of a rater's severity (default: "
                               f"{DEFAULT_THRESHOLDS.rater_severity} logits)")
    findings.add_argument("--rater-drift", type=float, default=None, metavar="LOGITS",
                          help="practical size of a step in a rater's severity (default: "
                               f"{DEFAULT_THRESHOLDS.rater_drift} logits)")
    findings.add_argument("--bias-points", type=float, default=None, metavar="POINTS",
                          help="practical size of a rater x criterion or rater x school bias "
                               f"(default: {DEFAULT_THRESHOLDS.bias_points} rubric points)")
    findings.add_argument("--min-school-raters", type=_count, default=None, metavar="N",
                          help="suppress schools with fewer measured raters (default: "
                               f"{DEFAULT_THRESHOLDS.min_school_raters})")
    findings.add_argument("--min-school-samples", type=_count, default=None, metavar="N",
                          help="suppress schools with fewer samples scored blind by other "
                               f"schools (default: {DEFAULT_THRESHOLDS.min_school_samples})")
    return parser


def _levels(text: str) -> ScoreLevels:
    try:
        return ScoreLevels.parse(text)
    except LevelsError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
