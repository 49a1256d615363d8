"""Who may read a round's report, and what of it: decided here and nowhere else.

1. A round's report is for those who manage the district's rounds (coaches, school-scoped
   too, and district administrators: scoring.permissions.can_manage_round).
2. While the round is open, no rater reaches it: whoever is in its pool, or could be a rater
   in the district (a teacher who does not oversee its samples, such as a teacher at one
   school who coaches another), is refused. After it closes they read it as a coach.
3. A rater's individual results are theirs. Coaches see the raters of their scope (a
   district-wide coach all of the pool, a school coach those who rated for their schools)
   under stable anonymous labels ("Rater 17"), and by name only where the district's
   setting calibration_visible_to_coaches is on. District administrators and school
   leaders never see raters one by one.
4. A school-scoped coach sees the round's reliability, agreement and design, and of the
   schools' findings only their own schools'. The schools page, which sets every school
   beside the others, is for who sees every school: district-wide coaches and district
   administrators.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app

from moderation.accounts.models import Role
from moderation.accounts.permissions import district_ids, school_ids
from moderation.analysis.inputs import criterion_code, rater_code, school_code
from moderation.reports import queries
from moderation.reports.audience import Audience
from moderation.scoring import permissions as scoring_permissions
from moderation.settings.queries import Settings, settings_for


def refusal(user, scoring_round) -> int | None:
    """None if the user may read the round's report, else the status to answer: 404 outside
    the districts they manage (rule 1), 403 for a rater while the round is open (rule 2)."""
    if not scoring_permissions.can_manage_round(user, scoring_round):
        return 404
    if scoring_round.is_open and is_rater(user, scoring_round):
        return 403
    return None


def schools_refusal(user, scoring_round) -> int | None:
    """refusal(), and 403 for a reader who does not see every school (rule 4)."""
    status = refusal(user, scoring_round)
    if status is None and not _sees_every_school(user, scoring_round.district_id):
        return 403
    return status


def _sees_every_school(user, district_id: int) -> bool:
    return district_id in district_ids(user, Role.COACH, Role.DISTRICT_ADMIN,
                                       district_wide=True)


def is_rater(user, scoring_round) -> bool:
    return (scoring_permissions.can_rate_in(user, scoring_round.district_id)
            or user.id in queries.pool_user_ids(scoring_round.id))


def audience(user, scoring_round, settings: Settings | None = None) -> Audience:
    """What `user` (who passed refusal()) sees of the round's report (rules 3 and 4);
    settings: the district's, when the caller has read them already."""
    district_id = scoring_round.district_id
    coached = frozenset(school_ids(user, Role.COACH))
    coach_wide = district_id in district_ids(user, Role.COACH, district_wide=True)
    return _audience(
        scoring_round, settings,
        shows_raters=(district_id in district_ids(user, Role.COACH)
                      and district_id not in district_ids(user, Role.DISTRICT_ADMIN)),
        rater_schools=None if coach_wide else coached,
        school_scope=None if _sees_every_school(user, district_id) else coached)


def district_coach_audience(scoring_round, settings: Settings | None = None) -> Audience:
    """What a district-wide coach sees: every rater of the pool and every school (the view a
    run's stored charts are drawn for)."""
    return _audience(scoring_round, settings, shows_raters=True, rater_schools=None,
                     school_scope=None)


def _audience(scoring_round, settings: Settings | None, *, shows_raters: bool,
              rater_schools: frozenset[int] | None,
              school_scope: frozenset[int] | None) -> Audience:
    """rater_schools: the schools whose raters are shown (None: the whole pool); school_scope:
    the schools whose findings are shown (None: all)."""
    district_id = scoring_round.district_id
    pool = queries.round_pool(scoring_round.id)
    labels = anonymous_labels(scoring_round.id, [rater.user_id for rater in pool])
    named = (settings or settings_for(district_id)).calibration_visible_to_coaches
    raters = {rater_code(rater.user_id): rater.name if named else labels[rater.user_id]
              for rater in pool if rater_schools is None or rater.school_id in rater_schools} \
        if shows_raters else {}
    schools = queries.school_names(district_id)
    return Audience(
        raters=raters, shows_raters=shows_raters,
        schools={school_code(school_id): name for school_id, name in schools.items()},
        school_scope=None if school_scope is None else frozenset(
            school_code(school_id) for school_id in school_scope if school_id in schools),
        criteria={criterion_code(criterion_id): name for criterion_id, name in
                  queries.criterion_names(scoring_round.rubric_version_id).items()})


def sees_individual_raters(user, scoring_round, settings: Settings | None = None) -> bool:
    """Whether `user` may know which teacher gave which rating in the whole round: a
    district-wide coach where the district's calibration_visible_to_coaches is on. Everyone
    else gets exports with rater codes drawn per export and no rater schools."""
    district_id = scoring_round.district_id
    return (district_id in district_ids(user, Role.COACH, district_wide=True)
            and district_id not in district_ids(user, Role.DISTRICT_ADMIN)
            and (settings or settings_for(district_id)).calibration_visible_to_coaches)


def anonymous_labels(round_id: int, user_ids: list[int]) -> dict[int, str]:
    """user id -> "Rater n", numbered in an order keyed by the app's secret and the round:
    the same in every report of the round, different from round to round, and telling
    nothing of the account (not its id, its name or when it joined)."""
    secret = current_app.config["SECRET_KEY"].encode()

    def key(user_id: int) -> bytes:
        return hmac.new(secret, f"round:{round_id}:rater:{user_id}".encode(),
                        hashlib.sha256).digest()

    return {user_id: f"Rater {position}"
            for position, user_id in enumerate(sorted(user_ids, key=key), 1)}
