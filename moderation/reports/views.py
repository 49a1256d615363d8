"""A round's report: the page a coach reads and its exports (run JSON, XLSX, each chart's SVG).

Every answer reads the round's latest finished run only, and shows it as the reader may see
it (permissions.audience); the page loads only the parts it shows."""

from __future__ import annotations

import io
import json

from flask import Blueprint, abort, g, url_for
from flask_login import current_user

from moderation.accounts.models import Role, User
from moderation.accounts.permissions import role_required
from moderation.analysis import queries as analysis_queries
from moderation.analysis.forms import RunForm
from moderation.analysis.inputs import export_table
from moderation.analysis.models import AnalysisRun
from moderation.core.downloads import XLSX, download
from moderation.core.extensions import db
from moderation.core.htmx import render
from moderation.ratings.export import write_csv
from moderation.reports import exports, pages, permissions, profile, round_report
from moderation.reports.audience import visible
from moderation.scoring import permissions as scoring_permissions
from moderation.scoring.models import ScoringRound
from moderation.settings.queries import settings_for

bp = Blueprint("reports", __name__, url_prefix="/reports")

ROUND_ROLES = scoring_permissions.ROUND_ROLES
OPEN_ROUND_REFUSAL = ("This round is still open and you could be one of its raters, so its "
                      "report stays closed to you until the round closes.")
SCHOOLS_REFUSAL = ("The schools page sets every school of the district beside the others; "
                   "your own schools' findings are in the round's report.")
# Sheets of individual raters, left out of the workbook of a reader who sees no raters.
RATER_SHEETS = ("Raters", "Bias")


@bp.app_template_global("round_schools_url")
def round_schools_url(scoring_round: ScoringRound) -> str | None:
    """The schools page's address, for who may read it."""
    if permissions.schools_refusal(current_user, scoring_round) is not None:
        return None
    return url_for("reports.show_round_schools", round_id=scoring_round.id)


@bp.app_template_global("round_report_url")
def round_report_url(scoring_round: ScoringRound) -> str | None:
    """The report's address for the round page, once a finished run exists and the reader may
    read it."""
    if permissions.refusal(current_user, scoring_round) is not None:
        return None
    if analysis_queries.round_analysis(scoring_round.id).finished is None:
        return None
    return url_for("reports.show_round_report", round_id=scoring_round.id)


def forbidden_hint() -> str | None:
    """The refused page's hint when it was a rater refused an open round's report
    (registered with core.errors.register_forbidden_hint)."""
    return g.get("report_refusal")


def _round_or_refuse(round_id: int, refusal=permissions.refusal) -> ScoringRound:
    scoring_round = db.get_or_404(ScoringRound, round_id)
    status = refusal(current_user, scoring_round)
    if status == 403:
        g.report_refusal = OPEN_ROUND_REFUSAL if scoring_round.is_open and \
            permissions.is_rater(current_user, scoring_round) else SCHOOLS_REFUSAL
        abort(403)
    if status is not None:
        abort(status)
    return scoring_round


def _finished_run(scoring_round: ScoringRound):
    run = analysis_queries.round_analysis(scoring_round.id).finished
    if run is None:
        abort(404, f"“{scoring_round.name}” has no finished analysis yet.")
    return run


@bp.get("/rounds/<int:round_id>")
@role_required(*ROUND_ROLES)
def show_round_report(round_id: int):
    scoring_round = _round_or_refuse(round_id)
    analysis = analysis_queries.round_analysis(round_id)
    context = {"round": scoring_round, "analysis": analysis, "run_form": RunForm(),
               "report": None}
    if analysis.finished is not None:
        context["report"] = _page_report(scoring_round, analysis.finished)
    return render("reports/round.html", "reports/_round_report.html", **context)


def _page_report(scoring_round: ScoringRound, run: AnalysisRun) -> round_report.RoundReport:
    settings = settings_for(scoring_round.district_id)
    return pages.round_page(scoring_round, run,
                            permissions.audience(current_user, scoring_round, settings), settings)


@bp.get("/rounds/<int:round_id>/schools")
@role_required(*ROUND_ROLES)
def show_round_schools(round_id: int):
    scoring_round = _round_or_refuse(round_id, permissions.schools_refusal)
    analysis = analysis_queries.round_analysis(round_id)
    schools = None if analysis.finished is None else _schools_report(scoring_round,
                                                                     analysis.finished)
    return render("reports/schools.html", "reports/_schools_report.html", round=scoring_round,
                  analysis=analysis, run_form=RunForm(), schools=schools)


def _schools_report(scoring_round: ScoringRound, run: AnalysisRun) -> round_report.SchoolsReport:
    return pages.schools_page(scoring_round, run,
                              permissions.audience(current_user, scoring_round))


@bp.get("/rounds/<int:round_id>/charts/<name>.svg")
@role_required(*ROUND_ROLES)
def export_round_chart(round_id: int, name: str):
    scoring_round = _round_or_refuse(round_id)
    run = _finished_run(scoring_round)
    charts = _page_report(scoring_round, run).charts
    if permissions.schools_refusal(current_user, scoring_round) is None:
        charts += _schools_report(scoring_round, run).charts
    chart = next((chart for chart in charts if chart.name == name), None)
    if chart is None:
        abort(404, "This report has no such chart.")
    return download(chart.svg, "image/svg+xml", f"{_file_stem(scoring_round)}-{name}.svg")


@bp.get("/rounds/<int:round_id>/report.json")
@role_required(*ROUND_ROLES)
def export_round_json(round_id: int):
    scoring_round = _round_or_refuse(round_id)
    report = _readable_report(scoring_round)
    return download(json.dumps(report, indent=2, ensure_ascii=False), "application/json",
                     f"{_file_stem(scoring_round)}-report.json")


@bp.get("/rounds/<int:round_id>/report.xlsx")
@role_required(*ROUND_ROLES)
def export_round_xlsx(round_id: int):
    scoring_round = _round_or_refuse(round_id)
    audience = permissions.audience(current_user, scoring_round)
    stream = io.BytesIO()
    exports.report_xlsx(_readable_report(scoring_round, audience), stream,
                        leave_out=() if audience.shows_raters else RATER_SHEETS)
    return download(stream.getvalue(), XLSX, f"{_file_stem(scoring_round)}-report.xlsx")


@bp.get("/rounds/<int:round_id>/ratings.csv")
@role_required(*ROUND_ROLES)
def export_round_ratings(round_id: int):
    """The round's ratings in the statistics engine's input format, as the run read them."""
    scoring_round = _round_or_refuse(round_id)
    anonymous = not permissions.sees_individual_raters(current_user, scoring_round)
    out = io.StringIO()
    write_csv(export_table(scoring_round.id, anonymous=anonymous), out)
    return download(out.getvalue(), "text/csv", f"{_file_stem(scoring_round)}-ratings.csv")


def _readable_report(scoring_round: ScoringRound, audience=None) -> dict:
    """The whole finished run reassembled, as the reader may read it."""
    run = _finished_run(scoring_round)
    return visible(analysis_queries.run_report(run.id),
                   audience or permissions.audience(current_user, scoring_round))


def _file_stem(scoring_round: ScoringRound) -> str:
    return f"round-{scoring_round.id}"


# --- the teacher's calibration profile ----------------------------------------------------------

@bp.get("/teachers/<int:user_id>/profile")
@role_required(Role.TEACHER, Role.COACH)
def show_teacher_profile(user_id: int):
    teacher = db.get_or_404(User, user_id)
    if not profile.can_see_profile_of(current_user, teacher):
        abort(404)
    own = teacher.id == current_user.id
    return render("reports/profile.html", "reports/_profile.html",
                  profile=profile.build(teacher, own), own=own)


@bp.app_template_global("calibration_profile_url")
def calibration_profile_url(teacher: User) -> str | None:
    """The teacher's profile for the coach's list, where the coach may open it."""
    if not profile.can_see_profile_of(current_user, teacher):
        return None
    return url_for("reports.show_teacher_profile", user_id=teacher.id)
