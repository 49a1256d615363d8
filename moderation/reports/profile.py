"""A teacher's private calibration profile: how their scores compare with the agreed scores and
with the other raters, round after round, and what to practise next.

Read from four places, never from an open round (its blindness would break):
- the finished analysis run of each closed round they rated in: their own entry of the raters
  part (fair-average difference, anchor agreement, drift), the engine's rater x criterion bias
  terms about them, and a finding that proposes them a private practice set;
- their blind scores on the validity papers of those closed rounds and their practice scores,
  each against the paper's agreed score, per criterion (statistics.agreed);
- their independent scores in finished joint-scoring sessions, each against the level the
  group agreed;
- the practice pool, for papers whose agreed score sits at the levels they confuse.

Who sees it: the teacher; coaches whose scope covers them only where their district's setting
calibration_visible_to_coaches is on. District administrators and school leaders never do.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from sqlalchemy import and_, union_all

from moderation.accounts.models import Role, User
from moderation.analysis import queries as analysis_queries
from moderation.analysis.inputs import criterion_code, rater_code
from moderation.core.extensions import db
from moderation.practice import queries as practice_queries
from moderation.practice.models import PracticeAttempt
from moderation.ratings.models import Rating, RatingKind
from moderation.reports import queries as report_queries
from moderation.samples.models import AnchorScore
from moderation.scoring.models import QueueItem, RoundRater, RoundStatus, ScoringRound
from moderation.sessions.models import Consensus, Session, SessionItem, SessionState
from moderation.settings.queries import settings_for
from moderation.statistics import agreed
from rubrics.models import Criterion

SOURCES = {"round": "Validity papers in rounds", "practice": "Practice papers",
           "session": "Joint-scoring sessions"}
PAPERS_PER_CRITERION = 3
# A pair of levels is "mostly" where the mix-ups are when it holds at least this share of them
# and happened more than once.
MOSTLY = 0.5
PRACTICE_SET = "private_practice_set"


# --- who sees a profile -----------------------------------------------------------------------

def _shared_districts(teacher: User) -> set[int]:
    return {m.district_id for m in teacher.memberships_as(Role.TEACHER)
            if settings_for(m.district_id).calibration_visible_to_coaches}


def can_see_profile_of(viewer, teacher: User) -> bool:
    """The teacher themself; a coach whose scope covers one of the teacher's schools in a
    district that shares calibration results with coaches. Nobody else."""
    if viewer.id == teacher.id:
        return bool(teacher.memberships_as(Role.TEACHER))
    return practice_queries.coaches_with_leave(viewer, teacher, "calibration_visible_to_coaches")


def who_else_sees(teacher: User, own: bool) -> str:
    """The page's line on who can see it, addressed to the teacher or naming them."""
    who = "you" if own else teacher.display_name
    if _shared_districts(teacher):
        return (f"Who can see this: {who}, and the coaches of "
                f"{'your' if own else 'their'} school and district, because the district "
                "shares calibration results with coaches. District administrators and school "
                "leaders never see individual raters.")
    return (f"Who can see this: only {who}. Coaches see the round's results under anonymous "
            "labels, and district administrators and school leaders never see individual "
            "raters.")


# --- rounds -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CriterionBias:
    criterion: str
    effect: float
    ci95: tuple[float, float] | None
    n: int


@dataclass(frozen=True)
class RoundResult:
    """The teacher's entry in one closed round's finished analysis."""

    name: str
    closed_at: datetime | None
    n_ratings: int
    difference: float | None  # fair-average difference, rubric points, > 0 more generous
    ci95: tuple[float, float] | None
    anchor: agreed.Share
    drift: str | None
    bias: list[CriterionBias]
    practice_levels: list[tuple[int, int]] | None  # (your score, agreed) of an offered set

    @property
    def sentence(self) -> str:
        if self.difference is None:
            return "Too few of your scores overlapped with others' to compare."
        if self.ci95 is not None and self.ci95[0] <= 0 <= self.ci95[1]:
            return "Your scores were close to the average rater's on the same work."
        way = "more generous" if self.difference > 0 else "harsher"
        return (f"You tended to score about {abs(self.difference):.2f} points per score {way} "
                "than the average rater on the same work.")


def _closed_rounds(user_id: int) -> list[ScoringRound]:
    return list(db.session.execute(
        db.select(ScoringRound).join(RoundRater, RoundRater.round_id == ScoringRound.id)
        .where(RoundRater.user_id == user_id, ScoringRound.status == RoundStatus.CLOSED)
        .order_by(ScoringRound.closed_at, ScoringRound.id)).scalars())


def round_results(teacher: User) -> list[RoundResult]:
    """The teacher's entry in the finished run of each closed round they rated in, oldest
    first (rounds without a finished run, or where the engine has no entry for them, left
    out)."""
    code = rater_code(teacher.id)
    results = []
    for scoring_round in _closed_rounds(teacher.id):
        run = analysis_queries.round_analysis(scoring_round.id).finished
        if run is None:
            continue
        fields = report_queries.parts(run.id, "raters", "bias", "triggers")
        entry = next((rater for rater in fields.get("raters") or [] if rater["rater"] == code),
                     None)
        if entry is None:
            continue
        names = {criterion_code(criterion_id): name for criterion_id, name in
                 report_queries.criterion_names(scoring_round.rubric_version_id).items()}
        results.append(_round_result(scoring_round, entry, fields, names))
    return results


def _round_result(scoring_round, entry: dict, fields: dict, names: dict) -> RoundResult:
    code = entry["rater"]
    n_anchor = entry.get("n_anchor_ratings") or 0
    exact = entry.get("anchor_exact_agreement")
    drift = entry.get("drift") or {}
    bias = [CriterionBias(names.get(term["criterion"], "a criterion"), term["effect"],
                          _pair(term["effect_ci95"]), term["n"])
            for term in fields.get("bias") or []
            if term["kind"] == "rater_criterion" and term["rater"] == code]
    offer = next((trigger["action"] for trigger in fields.get("triggers") or []
                  if trigger["target"] == code and (trigger.get("action") or {}).get("kind")
                  == PRACTICE_SET), None)
    levels = None
    if offer is not None:
        levels = [tuple(pair) for pair in (offer.get("material") or {}).get("levels") or []]
    return RoundResult(
        name=scoring_round.name, closed_at=scoring_round.closed_at,
        n_ratings=entry["n_ratings"], difference=entry["fair_average_difference"],
        ci95=_pair(entry["fair_average_difference_ci95"]),
        anchor=agreed.share(round(exact * n_anchor) if exact is not None else 0, n_anchor),
        drift=_drift_sentence(drift) if drift.get("flagged") else None,
        bias=bias, practice_levels=levels)


def _drift_sentence(drift: dict) -> str:
    points = drift.get("shift_points")
    since = f" from {drift['onset'][:10]}" if drift.get("onset") else ""
    if points is None:
        return f"Your scoring shifted during the round{since}."
    way = "harsher" if points < 0 else "more generous"
    interval = _pair(drift.get("shift_points_ci95"))
    figures = f"{drift.get('n_timed') or 0} timed scores"
    if interval is not None:
        figures = f"95% interval {interval[0]:+.2f} to {interval[1]:+.2f}, " + figures
    return (f"Your scoring became about {abs(points):.2f} points per score {way}{since} "
            f"({figures}).")


def _pair(interval) -> tuple[float, float] | None:
    return None if interval is None else (interval[0], interval[1])


# --- scores against agreed scores ------------------------------------------------------------

@dataclass(frozen=True)
class Comparison:
    source: str  # "round" (a validity paper of a closed round), "practice" or "session"
    criterion_id: int
    score: int
    agreed: int
    at: datetime


def comparisons(user_id: int) -> list[Comparison]:
    """Each current score the teacher gave a paper with an agreed score: the validity and
    calibration papers of closed rounds, practice papers, and their independent scores in
    sessions against the level the group agreed; oldest first."""
    blind = (
        db.select(Rating.criterion_id, Rating.score, AnchorScore.score, Rating.submitted_at)
        .join(QueueItem, QueueItem.id == Rating.queue_item_id)
        .join(ScoringRound, ScoringRound.id == QueueItem.round_id)
        .join(AnchorScore, and_(AnchorScore.anchor_id == QueueItem.anchor_id,
                                AnchorScore.criterion_id == Rating.criterion_id))
        .where(Rating.rater_id == user_id, Rating.kind == RatingKind.BLIND,
               Rating.is_current.is_(True), Rating.submitted_at.is_not(None),
               ScoringRound.status == RoundStatus.CLOSED)
        .add_columns(db.literal("round")))
    practice = (
        db.select(Rating.criterion_id, Rating.score, AnchorScore.score,
                  PracticeAttempt.submitted_at)
        .join(PracticeAttempt, and_(Rating.context_type == "practice",
                                    Rating.context_id == PracticeAttempt.id))
        .join(AnchorScore, and_(AnchorScore.anchor_id == PracticeAttempt.anchor_id,
                                AnchorScore.criterion_id == Rating.criterion_id))
        .where(Rating.rater_id == user_id, Rating.kind == RatingKind.PRACTICE,
               Rating.is_current.is_(True))
        .add_columns(db.literal("practice")))
    rows = db.session.execute(union_all(blind, practice, _against_consensus(user_id))).all()
    found = [Comparison(source, criterion_id, score, agreed_score, _utc(at))
             for criterion_id, score, agreed_score, at, source in rows]
    return sorted(found, key=lambda comparison: comparison.at)


def _against_consensus(user_id: int):
    """The teacher's independent (pre-reveal) scores in finished sessions, each against the
    consensus level the group recorded on that criterion (a deferred item has none)."""
    return (
        db.select(Rating.criterion_id, Rating.score, Consensus.level, Rating.submitted_at)
        .join(Session, and_(Rating.context_type == "session", Rating.context_id == Session.id))
        .join(SessionItem, and_(SessionItem.session_id == Session.id,
                                SessionItem.sample_id == Rating.sample_id))
        .join(Consensus, and_(Consensus.item_id == SessionItem.id,
                              Consensus.criterion_id == Rating.criterion_id))
        .where(Rating.rater_id == user_id, Rating.kind == RatingKind.BLIND,
               Rating.is_current.is_(True), Rating.submitted_at.is_not(None),
               Consensus.level.is_not(None),
               Session.state.in_((SessionState.DEBRIEF, SessionState.CLOSED)))
        .add_columns(db.literal("session")))


def _utc(moment: datetime | str) -> datetime:
    """SQLite hands back naive times (stored as UTC), and strings from a union."""
    moment = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class SuggestedPaper:
    anchor_id: int
    name: str
    agreed: int
    attempts: int


@dataclass(frozen=True)
class CriterionProfile:
    criterion_id: int
    name: str
    difference: agreed.MeanDifference
    exact: agreed.Share
    confusions: list[agreed.Confusion]
    papers: list[SuggestedPaper] = field(default_factory=list)

    @property
    def main_confusion(self) -> agreed.Confusion | None:
        return self.confusions[0] if self.confusions else None

    @property
    def sentence(self) -> str:
        """Framed for growth: what they tend to do, never a verdict."""
        d = self.difference
        if d.ci95 is None:
            return (f"On {self.name} you have {d.n} score{'s' if d.n != 1 else ''} against an "
                    "agreed score so far: too few to see a tendency.")
        if d.ci95[0] <= 0 <= d.ci95[1]:
            said = f"On {self.name} your scores sit close to the agreed score on average"
        else:
            way = "above" if d.mean > 0 else "below"
            said = f"On {self.name} you tend to score about {abs(d.mean):.1f} points {way} " \
                   "the agreed score"
        confusion = self.main_confusion
        if confusion is not None and confusion.n > 1 and confusion.n >= MOSTLY * self.mismatches:
            said += f", mostly between levels {confusion.low} and {confusion.high}"
        return said + "."

    @property
    def mismatches(self) -> int:
        return sum(confusion.n for confusion in self.confusions)

    @property
    def confused_levels(self) -> list[int]:
        return sorted({level for confusion in self.confusions
                       for level in (confusion.low, confusion.high)})


def criterion_profiles(teacher: User, found: list[Comparison]) -> list[CriterionProfile]:
    """Per criterion the teacher scored with an agreed score: the mean difference, the share
    matched exactly and the levels confused, with practice papers on those levels."""
    by_criterion: dict[int, list[Comparison]] = defaultdict(list)
    for comparison in found:
        by_criterion[comparison.criterion_id].append(comparison)
    criteria = db.session.execute(db.select(Criterion).where(
        Criterion.id.in_(by_criterion)).order_by(Criterion.version_id, Criterion.position)
    ).scalars()
    profiles = []
    for criterion in criteria:
        scores = by_criterion[criterion.id]
        profiles.append(CriterionProfile(
            criterion.id, criterion.name,
            agreed.mean_difference([c.score - c.agreed for c in scores]),
            agreed.share(sum(c.score == c.agreed for c in scores), len(scores)),
            agreed.confusions([(c.score, c.agreed) for c in scores])))
    return _with_papers(teacher, profiles)


def _with_papers(teacher: User, profiles: list[CriterionProfile]) -> list[CriterionProfile]:
    """Each profile with the practice papers whose agreed score on that criterion is one of
    the levels it confuses: those at the two levels confused most first, then those practised
    least."""
    wanted = {p.criterion_id: set(p.confused_levels) for p in profiles if p.confusions}
    if not wanted:
        return profiles
    papers = {paper.anchor.id: paper for paper in practice_queries.practice_list(teacher)}
    matches: dict[int, list[SuggestedPaper]] = defaultdict(list)
    for anchor_id, criterion_id, score in db.session.execute(
            db.select(AnchorScore.anchor_id, AnchorScore.criterion_id, AnchorScore.score)
            .where(AnchorScore.anchor_id.in_(papers), AnchorScore.criterion_id.in_(wanted))
            .order_by(AnchorScore.anchor_id)):
        if score in wanted[criterion_id]:
            paper = papers[anchor_id]
            matches[criterion_id].append(SuggestedPaper(anchor_id, paper.name, score,
                                                        paper.attempts))
    return [replace(p, papers=_first_papers(p, matches[p.criterion_id])) for p in profiles]


def _first_papers(profile: CriterionProfile, papers: list[SuggestedPaper]) -> list[SuggestedPaper]:
    main = profile.main_confusion
    top = set() if main is None else {main.low, main.high}
    return sorted(papers, key=lambda paper: (paper.agreed not in top, paper.attempts)
                  )[:PAPERS_PER_CRITERION]


@dataclass(frozen=True)
class Accuracy:
    month: str  # "October 2026"
    source: str
    exact: agreed.Share


def accuracy_over_time(found: list[Comparison]) -> list[Accuracy]:
    """Per month and source, the share of scores that matched the agreed score exactly."""
    groups: dict[tuple[str, str], list[Comparison]] = defaultdict(list)
    for comparison in found:
        groups[comparison.at.year, comparison.at.month, comparison.source].append(comparison)
    return [Accuracy(date(year, month, 1).strftime("%B %Y"), SOURCES[source],
                     agreed.share(sum(c.score == c.agreed for c in scores), len(scores)))
            for (year, month, source), scores in sorted(groups.items())]


# --- the page ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class PracticeOffer:
    """A finding of a round's analysis that proposed the teacher a private practice set."""

    round_name: str
    levels: list[tuple[int, int]]

    @property
    def sentence(self) -> str:
        if not self.levels:
            return (f"The analysis of “{self.round_name}” suggests a private practice set "
                    "across all levels, with the agreed scores and their rationale.")
        pairs = "; ".join(f"a {score} where the agreed score is {agreed_score}"
                          for score, agreed_score in self.levels)
        return (f"The analysis of “{self.round_name}” suggests a private practice set on the "
                f"levels you tend to mix up ({pairs}), with the agreed scores and their "
                "rationale.")


@dataclass(frozen=True)
class Profile:
    teacher: User
    rounds: list[RoundResult]
    criteria: list[CriterionProfile]
    accuracy: list[Accuracy]
    offer: PracticeOffer | None
    who_else_sees: str

    @property
    def is_empty(self) -> bool:
        return not (self.rounds or self.criteria)


def build(teacher: User, own: bool) -> Profile:
    """The whole profile of `teacher`, for them (`own`) or a coach (can_see_profile_of decides
    who may read it)."""
    rounds = round_results(teacher)
    found = comparisons(teacher.id)
    offered = next((r for r in reversed(rounds) if r.practice_levels is not None), None)
    return Profile(
        teacher=teacher, rounds=rounds, criteria=criterion_profiles(teacher, found),
        accuracy=accuracy_over_time(found),
        offer=None if offered is None else PracticeOffer(offered.name, offered.practice_levels),
        who_else_sees=who_else_sees(teacher, own))
