"""The demo district's blind scoring: per grade band, a completed round and an open one.

A step of `flask seed-demo` (SEED_STEPS in seed_data/demo/__init__.py), after the demo samples.
Each grade band of demo_district.json ("grade_bands") scores the newest ready version of its own
rubric with the teachers of its own schools (three per band, so that every sample can go to
raters of two other schools and the design connects them). Who scores what comes from the real
services (services.open_round runs the assignment engine); what they score comes from the
synthetic district model (seed_data/synthetic.py), one model per band: its planted truth (rater
severities with school effects, two raters far off, drift, sample measures, criterion
difficulties, thresholds) sets the probability of each level, and its local rows give the class
teachers' own scores, inflated in one school. The planted spread of the work against the
raters' noise gives each criterion a Krippendorff's alpha of about .6 to .8, as in a district
that moderates but is not yet consistent. The work itself is typed from the band's building
blocks (seed_data/scoring/), stronger for samples the model made stronger; twelve per band are
anchor papers with agreed scores, eight kept for calibration (validity papers and common sets)
and four for practice.

- The completed round ("Autumn moderation: ..."): every item scored; closed.
- The open round ("Winter moderation: ..."): part-scored, each teacher with work left; the
  band's `fresh_queues` (the demo logins) have not started, so there is work to try.

A round is found by its name and left alone if it exists (its samples and anchors are made with
it), so running the seed again changes nothing.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from moderation.accounts import queries as account_queries
from moderation.accounts.models import District, School, User
from moderation.core.db import utcnow
from moderation.core.extensions import db
from moderation.core.storage import get_storage
from moderation.ratings.models import Rating, RatingKind
from moderation.samples import services as sample_services
from moderation.samples.models import AnchorPool, WorkSample
from moderation.scoring import queries, services
from moderation.scoring.models import ItemKind, QueueItem, ScoringRound
from rubrics import queries as rubric_queries
from rubrics.models import RubricVersion

PIECES_DIR = Path(__file__).resolve().parents[1] / "scoring"
SEED = 2026
N_ANCHORS = 12
N_PRACTICE_ANCHORS = 4  # the last ones made; the others are calibration anchors
COMPLETED_DAYS_AGO, COMPLETED_LENGTH_DAYS, OPEN_DAYS_AGO = 70, 45, 6
OPEN_DUE_AFTER_DAYS = 21  # the open round is due two weeks from now

COMMENTS = {
    1: "Hard to find what the writer is saying.",
    2: "Getting there, but the reasons need evidence.",
    3: "Clear and well supported for the grade.",
    4: "Strong, and goes beyond what the task asked.",
}


def _params(n_schools: int, raters_per_school: int, n_samples: int, n_criteria: int,
            start: datetime):
    """A grade band in the model's terms. The work, anchor papers included, spreads widely
    (4 logits) against the model's own noise and a modest spread of teachers (0.3 logits),
    so alpha lands near .7; one school lenient and one harsh by 0.4 logits, two teachers 1.5
    logits off (one harsh, one lenient), a school that inflates its own local scores, and one
    teacher in ten drifting."""
    from seed_data.synthetic import DistrictParams  # pandas, only when seeding

    return DistrictParams(
        n_schools=n_schools, raters_per_school=raters_per_school, samples=n_samples,
        criteria=n_criteria, blind_ratings_per_sample=3, anchors=N_ANCHORS, levels=4,
        anchor_spread=4.0, threshold_spread=3.0, sample_sd=4.0, school_quality_sd=0.5,
        severity_sd=0.3,
        lenient_fraction=1 / n_schools, harsh_fraction=1 / n_schools, school_effect=0.4,
        outlier_raters=2, outlier_size=1.5, inflating_fraction=1 / n_schools,
        local_fraction=0.5, drift_fraction=0.1, drift_size=1.0,
        term_start=start.strftime("%Y-%m-%d"), term_days=float(COMPLETED_LENGTH_DAYS))


def seed_demo_scoring(spec: dict, district: District) -> None:
    """Create each grade band's completed and open rounds unless they exist."""
    have = {r.name for r in queries.rounds_for_district(district.id)}
    coach_email = next((c["email"] for c in spec["coaches"] if not c.get("school")), None)
    coach = coach_email and account_queries.user_by_email(coach_email)
    if not coach:
        return
    for number, band in enumerate(spec["grade_bands"]):
        if band["completed_round"] in have and band["open_round"] in have:
            continue
        versions = [v for v in rubric_queries.versions_for_district(district.id,
                                                                    ready_only=True)
                    if v.rubric.title == band["rubric"]]
        staff = [(school, [account_queries.user_by_email(t["email"]) for t in school["teachers"]])
                 for school in spec["schools"] if school["grade_band"] == band["grade_band"]]
        if not versions or len(staff) < 2:
            continue
        demo = _BandDemo(band, district, versions[-1], coach, staff, seed=SEED + number)
        if band["completed_round"] not in have:
            demo.completed_round()
        if band["open_round"] not in have:
            demo.open_round()


@dataclass
class _Rater:
    """A teacher of the band and their rater in the model (T01, T02, ..., school by school)."""

    user: User
    school: School
    label: str


class _BandDemo:
    def __init__(self, band: dict, district: District, version: RubricVersion, coach: User,
                 staff: list[tuple[dict, list[User]]], seed: int):
        self.band, self.version, self.coach = band, version, coach
        self.district = district
        by_name = {s.name: s for s in district.schools}
        self.schools = [by_name[school["name"]] for school, _ in staff]
        per_school = max(len(teachers) for _, teachers in staff)
        self.raters = [_Rater(user, self.schools[s], f"T{s * per_school + t + 1:02d}")
                       for s, (_, teachers) in enumerate(staff)
                       for t, user in enumerate(teachers)]
        self.by_label = {r.label: r for r in self.raters}
        self.by_user = {r.user.id: r for r in self.raters}
        self.start = (utcnow() - timedelta(days=COMPLETED_DAYS_AGO)).replace(
            hour=8, minute=0, second=0, microsecond=0)
        from seed_data.synthetic import generate_district

        n_samples = band["completed_samples"] + band["open_samples"]
        self.ratings, self.truth = generate_district(
            _params(len(staff), per_school, n_samples, len(version.criteria), self.start),
            seed=seed)
        self.rng = np.random.default_rng(seed)
        self.pieces = json.loads((PIECES_DIR / band["pieces"]).read_text())
        self.criteria = version.criteria
        self.labels: dict[tuple[str, int], str | None] = {}  # ("sample"|"anchor", id) -> label

    # --- the work ---------------------------------------------------------------------------

    def _school_teachers(self, school: School) -> list[User]:
        return [r.user for r in self.raters if r.school is school]

    def _upload(self, index: int, label: str, school: School) -> WorkSample:
        local = self.ratings[(self.ratings["kind"] == "local") & (self.ratings["sample"] == label)]
        # The model's local rater may be a place the school has not filled; then a colleague.
        local_rater = self.by_label.get(local["rater"].iloc[0]) if len(local) else None
        teachers = self._school_teachers(school)
        uploader = local_rater.user if local_rater else teachers[index % len(teachers)]
        topic = self.pieces["topics"][index % len(self.pieces["topics"])]
        text = _piece(self.pieces, topic, _level(float(self.truth.sample_measure[label])),
                      self.rng)
        initials = "".join(word[0] for word in school.name.split()[:2])
        sample = sample_services.upload_sample(
            uploader=uploader, school=school, rubric_version=self.version, title=topic["title"],
            data=text.encode("utf-8"), filename="work.txt", storage=get_storage(),
            student_name=f"Demo student {initials}-{300 + index}")
        if local_rater:
            scores = local.sort_values("criterion")["score"].tolist()
            sample_services.record_local_scores(
                sample, uploader, {c.id: int(s) for c, s in zip(self.criteria, scores,
                                                                strict=True)})
        sample_services.confirm_redaction(sample, uploader)
        return sample

    def _live_samples(self, indices: range) -> list[WorkSample]:
        samples = []
        for i in indices:
            label = f"W{i + 1:02d}"
            sample = self._upload(i, label, self.schools[i % len(self.schools)])
            self.labels[("sample", sample.id)] = label
            samples.append(sample)
        return samples

    def _anchors(self) -> None:
        reference = self.ratings[self.ratings["kind"] == "reference"]
        for k in range(N_ANCHORS):
            label = f"A{k + 1:02d}"
            sample = self._upload(k + 1, label, self.schools[k % len(self.schools)])
            agreed = reference[reference["sample"] == label].sort_values("criterion")
            scores = {c.id: int(s) for c, s in zip(self.criteria, agreed["score"], strict=True)}
            pool = (AnchorPool.PRACTICE if k >= N_ANCHORS - N_PRACTICE_ANCHORS
                    else AnchorPool.CALIBRATION)
            anchor = sample_services.promote_to_anchor(
                sample, self.coach, scores,
                {c.id: _rationale(c, scores[c.id]) for c in self.criteria}, pool)
            self.labels[("anchor", anchor.id)] = label

    # --- the rounds ---------------------------------------------------------------------------

    def _open(self, name: str, samples: list, calibration: int, seed: int) -> ScoringRound:
        request = services.RoundRequest(
            name=name, version=self.version, samples=samples,
            raters=[r.user for r in self.raters], ratings_per_sample=3, validity_rate=0.1,
            calibration_size=calibration, seed=seed)
        return services.open_round(self.district, self.coach, request)

    def completed_round(self) -> None:
        self._anchors()
        samples = self._live_samples(range(self.band["completed_samples"]))
        scoring_round = self._open(self.band["completed_round"], samples, calibration=5,
                                   seed=SEED)
        scoring_round.opened_at = self.start
        for rater_items in self._items_by_rater(scoring_round):
            times = np.sort(self.rng.uniform(0, COMPLETED_LENGTH_DAYS - 2, len(rater_items)))
            for item, day in zip(rater_items, times, strict=True):
                self._score(item, self.start + timedelta(days=float(day)))
        services.close_round(scoring_round, self.coach)
        scoring_round.closed_at = self.start + timedelta(days=COMPLETED_LENGTH_DAYS)
        db.session.flush()

    def open_round(self) -> None:
        # The completed round's anchors come back as validity papers; an anchor made outside
        # this seed has no label and gets a measure drawn at random when it is scored.
        for anchor in queries.calibration_anchors(self.version):
            self.labels.setdefault(("anchor", anchor.id), None)
        first = self.band["completed_samples"]
        samples = self._live_samples(range(first, first + self.band["open_samples"]))
        scoring_round = self._open(self.band["open_round"], samples, calibration=3,
                                   seed=SEED + 1)
        opened = (utcnow() - timedelta(days=OPEN_DAYS_AGO)).replace(microsecond=0)
        scoring_round.opened_at = opened
        scoring_round.due_date = (opened + timedelta(days=OPEN_DUE_AFTER_DAYS)).date()
        fresh = set(self.band["fresh_queues"])
        for rater_items in self._items_by_rater(scoring_round):
            if rater_items[0].rater.email in fresh:
                continue  # a demo login's queue is left for whoever tries the demo
            done = int(self.rng.integers(0, len(rater_items)))  # at least one item left
            times = np.sort(self.rng.uniform(0, OPEN_DAYS_AGO - 0.5, done))
            for item, day in zip(rater_items[:done], times, strict=True):
                self._score(item, opened + timedelta(days=float(day)))
        db.session.flush()

    def _items_by_rater(self, scoring_round: ScoringRound) -> list[list[QueueItem]]:
        items = db.session.execute(
            db.select(QueueItem).where(QueueItem.round_id == scoring_round.id)
            .order_by(QueueItem.rater_id, QueueItem.position)).scalars()
        by_rater: dict[int, list[QueueItem]] = {}
        for item in items:
            by_rater.setdefault(item.rater_id, []).append(item)
        return list(by_rater.values())

    def _model_label(self, item: QueueItem) -> str | None:
        if item.kind == ItemKind.LIVE:
            return self.labels.get(("sample", item.sample_id))
        return self.labels.get(("anchor", item.anchor_id))

    def _score(self, item: QueueItem, when: datetime) -> None:
        """Submit the model's scores for an item, as the rater would have at `when`."""
        label = self._model_label(item)
        measure = (float(self.truth.sample_measure[label]) if label
                   else float(self.rng.normal(0, 4)))
        scores = _draw(self.truth, self.by_user[item.rater_id].label, measure, when, self.rng)
        for criterion, score in zip(self.criteria, scores, strict=True):
            comment = COMMENTS[score] if self.rng.uniform() < 0.12 else None
            db.session.add(Rating(
                rater_id=item.rater_id, sample_id=item.sample_id, criterion_id=criterion.id,
                rubric_version_id=self.version.id, score=score, kind=RatingKind.BLIND,
                context_type="round", context_id=item.round_id, queue_item_id=item.id,
                comment=comment, created_at=when, submitted_at=when))
        item.submitted_at = when


def _draw(truth, rater: str, measure: float, when: datetime,
          rng: np.random.Generator) -> list[int]:
    """Scores 1..levels for each criterion from the rating-scale Rasch model with the planted
    truth: log(P(k)/P(k-1)) = measure - difficulty - severity(t) - tau_k."""
    severity = float(truth.severity[rater])
    if rater in truth.drift.index and when >= truth.drift.loc[rater, "onset"]:
        severity += float(truth.drift.loc[rater, "shift"])
    eta = measure - truth.criterion_difficulty.to_numpy() - severity
    steps = np.arange(truth.thresholds.size + 1)
    logits = eta[:, None] * steps - np.concatenate([[0.0], np.cumsum(truth.thresholds)])
    prob = np.exp(logits - logits.max(axis=1, keepdims=True))
    prob /= prob.sum(axis=1, keepdims=True)
    return [int(rng.choice(steps.size, p=p)) + 1 for p in prob]


def _level(measure: float) -> int:
    """The level of craft a piece is written at: the model's measure in bands of 4 logits."""
    return int(np.clip(np.floor(measure / 4 + 2.5), 1, 4))


def _rationale(criterion, score: int) -> str:
    level = next(lv for lv in criterion.levels if lv.score == score)
    return (f"Agreed at {score} ({level.label}): {level.descriptor} The panel saw this in the "
            f"work as a whole, not in one sentence.")


def _piece(pieces: dict, topic: dict, level: int, rng: np.random.Generator) -> str:
    """A piece on `topic` whose craft matches `level` (1-4): more reasons, evidence, linking
    words and paragraphs, and fewer slips, as the level rises. The building blocks name their
    parts for an opinion piece (opinion, reasons, counter, ending); an argument's claim or a lab
    report's prediction fills the same places."""
    side = "yes" if rng.uniform() < 0.5 else "no"
    reasons = topic["reasons"][side]
    n_reasons = {1: 1, 2: 2, 3: 2, 4: 3}[level]
    chosen = [reasons[i] for i in sorted(rng.choice(len(reasons), n_reasons, replace=False))]
    body = []
    for n, (reason, example) in enumerate(chosen):
        sentence = f"{pieces['links'][n]} {reason[0].lower()}{reason[1:]}" if level >= 3 else reason
        if level >= 2 or n == 0:
            sentence += " " + example
        body.append(sentence)
    parts = [topic["opinion"][side]] + body
    if level == 4 or (level == 3 and rng.uniform() < 0.5):
        parts.append(topic["counter"][side])
    parts.append(topic["ending"][side])
    if level >= 3:
        text = topic["headline"][side] + "\n\n" + "\n\n".join(parts)
    elif level == 2:
        text = topic["headline"][side] + "\n\n" + " ".join(parts)
    else:
        text = " ".join(p[0].lower() + p[1:] for p in parts).replace(". ", " and ", 2)
    slips = list(pieces["misspellings"].items())
    n_slips = {1: len(slips), 2: len(slips) // 2, 3: 1, 4: 0}[level]
    for right, wrong in slips[:n_slips]:
        text = text.replace(f" {right} ", f" {wrong} ")
    return text + "\n"
