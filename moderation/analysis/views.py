"""A round's analysis on its page: ask for a run, and follow it by polling a small fragment.

The round page polls `round_status` every 2 s while a run is queued or running, sending the
version it shows; the answer is 204 (htmx swaps nothing) until the run's progress moves, then
the fragment. Only those who manage the round (who may close it) see or start its analysis.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from moderation.accounts.permissions import role_required
from moderation.analysis import queries, services
from moderation.analysis.forms import RunForm
from moderation.analysis.models import STEP_NAMES
from moderation.core.extensions import db
from moderation.core.htmx import wants_fragment
from moderation.scoring import permissions as scoring_permissions
from moderation.scoring.models import ScoringRound
from moderation.scoring.views import managed_round_or_404

bp = Blueprint("analysis", __name__, url_prefix="/analysis")

ROUND_ROLES = scoring_permissions.ROUND_ROLES


@bp.app_template_global("round_analysis_context")
def round_analysis_context(scoring_round: ScoringRound) -> dict:
    """What the round page's analysis panel shows (templates/analysis/_round_analysis.html)."""
    return {"analysis": queries.round_analysis(scoring_round.id), "run_form": RunForm(),
            "steps": STEP_NAMES}


def _panel(scoring_round: ScoringRound):
    return render_template("analysis/_round_analysis.html", round=scoring_round,
                           panel=round_analysis_context(scoring_round))


@bp.get("/rounds/<int:round_id>/status")
@role_required(*ROUND_ROLES)
def round_status(round_id: int):
    scoring_round = managed_round_or_404(round_id)
    if not wants_fragment():
        return redirect(url_for("scoring.show_round", round_id=round_id))
    if request.args.get("v") == queries.round_analysis(round_id).version:
        return "", 204
    return _panel(scoring_round)


@bp.post("/rounds/<int:round_id>/runs")
@role_required(*ROUND_ROLES)
def run_round(round_id: int):
    scoring_round = managed_round_or_404(round_id)
    if not RunForm().validate_on_submit():
        abort(400, "The form had expired; reload the page and try again.")
    try:
        services.request_round_run(scoring_round, current_user)
    except services.AnalysisError as error:
        abort(409, str(error))
    db.session.commit()
    if not wants_fragment():
        flash("The analysis is on its way; this page shows it when it is done.", "success")
        return redirect(url_for("scoring.show_round", round_id=scoring_round.id))
    return _panel(scoring_round)
