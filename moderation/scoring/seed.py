"""The demo district's blind scoring: a completed round with realistic scores, and an open one.

A step of `flask seed-demo` (seed_data/demo.py SEED_STEPS), after the demo samples. Both rounds
score the newest ready version of the "Opinion Writing" rubric with the district's 24 teachers.
Who scores what comes from the real services (services.open_round runs the assignment engine);
what they score comes from the synthetic district model (seed_data/synthetic.py): its planted
truth (rater severities with school effects and drift, sample measures, criterion difficulties,
thresholds) sets the probability of each level, and its local rows give the class teachers'
own scores, inflated in one school. So the reports have leniency, drift and a local-versus-blind
gap to find. The work itself is short typed opinion pieces (seed_data/scoring/), stronger for
samples the model made stronger; twelve of them are anchor papers with agreed scores, eight
kept for calibration (the rounds' validity papers and common sets) and four for practice.

- "Autumn moderation: opinion writing": 48 samples, 3 ratings each, validity papers at 10 %, a
  common calibration set of 5; every item scored; closed.
- "Winter moderation: opinion writing": 24 samples, 3 ratings each, validity papers at 10 %, a
  calibration set of 3; open, part-scored by most teachers; the demo teacher
  (amara.okafor@riverbend.example) has not started, so there is work to try.

A round is found by its name and left alone if it exists (its samples and anchors are made with
it), so running the seed again changes nothing.
"""

import json
from datetime import timedelta
from pathlib import Path

import numpy as np

from moderation.accounts import queries as account_queries
from moderation.accounts.models import District
from moderation.core.db import utcnow
from moderation.core.extensions import db
from moderation.core.storage import get_storage
from moderation.ratings.models import Rating, RatingKind
from moderation.samples import services as sample_services
from moderation.samples.models import AnchorPool
from moderation.scoring import queries, services
from moderation.scoring.models import ItemKind, QueueItem, ScoringRound
from rubrics import queries as rubric_queries

PIECES_FILE = Path(__file__).resolve().parents[2] / "seed_data" / "scoring" / "opinion_pieces.json"
RUBRIC = "Opinion Writing"
COMPLETED_ROUND = "Autumn moderation: opinion writing"
OPEN_ROUND = "Winter moderation: opinion writing"
DEMO_TEACHER = "amara.okafor@riverbend.example"
SEED = 2026
N_COMPLETED, N_OPEN, N_ANCHORS = 48, 24, 12
N_PRACTICE_ANCHORS = 4  # the last ones made; the others are calibration anchors
COMPLETED_DAYS_AGO, COMPLETED_LENGTH_DAYS, OPEN_DAYS_AGO = 70, 45, 6

COMMENTS = {
    1: "Hard to find what the writer thinks.",
    2: "Getting there, but the reasons need examples.",
    3: "Clear and well supported for the grade.",
    4: "Strong, and goes beyond what the task asked.",
}


def _params(start):
    """The demo district in the model's terms: 4 schools of 6 teachers, one lenient school and
    one harsh one, a school that inflates its own local scores, some teachers drifting."""
    from seed_data.synthetic import DistrictParams  # pandas, only when seeding

    return DistrictParams(
        n_schools=4, raters_per_school=6, samples=N_COMPLETED + N_OPEN, criteria=4,
        blind_ratings_per_sample=3, anchors=N_ANCHORS, levels=4, lenient_fraction=0.25,
        harsh_fraction=0.25, inflating_fraction=0.25, local_fraction=0.5, drift_fraction=0.15,
        term_start=start.strftime("%Y-%m-%d"), term_days=float(COMPLETED_LENGTH_DAYS))


def seed_demo_scoring(spec: dict, district: District) -> None:
    """Create the completed and the open demo rounds unless they exist."""
    have = {r.name for r in queries.rounds_for_district(district.id)}
    if COMPLETED_ROUND in have and OPEN_ROUND in have:
        return
    versions = [v for v in rubric_queries.versions_for_district(district.id, ready_only=True)
                if v.rubric.title == RUBRIC]
    coach_email = next((c["email"] for c in spec["coaches"] if not c.get("school")), None)
    coach = coach_email and account_queries.user_by_email(coach_email)
    if not versions or not coach:
        return
    demo = _Demo(spec, district, versions[-1], coach)
    if COMPLETED_ROUND not in have:
        demo.completed_round()
    if OPEN_ROUND not in have:
        demo.open_round()


class _Demo:
    def __init__(self, spec, district, version, coach):
        self.district, self.version, self.coach = district, version, coach
        self.schools = [next(s for s in district.schools if s.name == school["name"])
                        for school in spec["schools"]]
        # Model rater T01..T24 is the demo district's teachers in file order, six per school.
        self.teachers = [account_queries.user_by_email(t["email"])
                         for school in spec["schools"] for t in school["teachers"]]
        self.start = (utcnow() - timedelta(days=COMPLETED_DAYS_AGO)).replace(
            hour=8, minute=0, second=0, microsecond=0)
        from seed_data.synthetic import generate_district

        self.ratings, self.truth = generate_district(_params(self.start), seed=SEED)
        self.rng = np.random.default_rng(SEED)
        self.pieces = json.loads(PIECES_FILE.read_text())
        self.criteria = version.criteria
        self.labels: dict[tuple[str, int], str] = {}  # ("sample" | "anchor", id) -> model label

    # --- the work ---------------------------------------------------------------------------

    def _upload(self, index: int, label: str, school, measure: float):
        local = self.ratings[(self.ratings["kind"] == "local") & (self.ratings["sample"] == label)]
        if len(local):
            uploader = self.teachers[int(local["rater"].iloc[0][1:]) - 1]
        else:
            uploader = self.teachers[self.schools.index(school) * 6 + index % 6]
        topic = self.pieces["topics"][index % len(self.pieces["topics"])]
        text = _piece(self.pieces, topic, _level(measure), self.rng)
        sample = sample_services.upload_sample(
            uploader=uploader, school=school, rubric_version=self.version, title=topic["title"],
            data=text.encode("utf-8"), filename="opinion.txt", storage=get_storage(),
            student_name=f"Demo student {school.name[0]}-{300 + index}")
        if len(local):
            scores = local.sort_values("criterion")["score"].tolist()
            sample_services.record_local_scores(
                sample, uploader, {c.id: int(s) for c, s in zip(self.criteria, scores,
                                                                strict=True)})
        sample_services.confirm_redaction(sample, uploader)
        return sample

    def _live_samples(self, indices: range) -> list:
        samples = []
        for i in indices:
            label = f"W{i + 1:02d}"
            sample = self._upload(i, label, self.schools[i % 4],
                                  float(self.truth.sample_measure[label]))
            self.labels[("sample", sample.id)] = label
            samples.append(sample)
        return samples

    def _anchors(self) -> None:
        reference = self.ratings[self.ratings["kind"] == "reference"]
        for k in range(N_ANCHORS):
            label = f"A{k + 1:02d}"
            sample = self._upload(k + 1, label, self.schools[k % 4],
                                  float(self.truth.sample_measure[label]))
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
            name=name, version=self.version, samples=samples, raters=self.teachers,
            ratings_per_sample=3, validity_rate=0.1, calibration_size=calibration, seed=seed)
        return services.open_round(self.district, self.coach, request)

    def completed_round(self) -> None:
        self._anchors()
        samples = self._live_samples(range(N_COMPLETED))
        scoring_round = self._open(COMPLETED_ROUND, samples, calibration=5, seed=SEED)
        scoring_round.opened_at = self.start
        for rater_items in self._items_by_rater(scoring_round):
            times = np.sort(self.rng.uniform(0, COMPLETED_LENGTH_DAYS - 2, len(rater_items)))
            for item, day in zip(rater_items, times, strict=True):
                self._score(item, self.start + timedelta(days=float(day)))
        services.close_round(scoring_round, self.coach)
        scoring_round.closed_at = self.start + timedelta(days=COMPLETED_LENGTH_DAYS)
        db.session.flush()

    def open_round(self) -> None:
        # Anchor papers of the autumn round are reused: their labels are known by anchor id.
        for anchor in queries.calibration_anchors(self.version):
            self.labels.setdefault(("anchor", anchor.id), None)
        samples = self._live_samples(range(N_COMPLETED, N_COMPLETED + N_OPEN))
        scoring_round = self._open(OPEN_ROUND, samples, calibration=3, seed=SEED + 1)
        opened = (utcnow() - timedelta(days=OPEN_DAYS_AGO)).replace(microsecond=0)
        scoring_round.opened_at = opened
        for rater_items in self._items_by_rater(scoring_round):
            if rater_items[0].rater.email == DEMO_TEACHER:
                continue  # the demo teacher's queue is left for whoever tries the demo
            done = int(self.rng.integers(0, len(rater_items) + 1))
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

    def _score(self, item: QueueItem, when) -> None:
        """Submit the model's scores for an item, as the rater would have at `when`."""
        rater = f"T{self.teachers.index(item.rater) + 1:02d}"
        label = self._model_label(item)
        measure = (float(self.truth.sample_measure[label]) if label
                   else float(self.rng.normal(0, 1)))  # an anchor made outside this seed
        scores = _draw(self.truth, rater, measure, when, self.rng)
        for criterion, score in zip(self.criteria, scores, strict=True):
            comment = COMMENTS[score] if self.rng.uniform() < 0.12 else None
            db.session.add(Rating(
                rater_id=item.rater_id, sample_id=item.sample_id, criterion_id=criterion.id,
                rubric_version_id=self.version.id, score=score, kind=RatingKind.BLIND,
                context_type="round", context_id=item.round_id, queue_item_id=item.id,
                comment=comment, created_at=when, submitted_at=when))
        item.submitted_at = when


def _draw(truth, rater: str, measure: float, when, rng: np.random.Generator) -> list[int]:
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
    return int(np.clip(np.floor(measure + 2.5), 1, 4))


def _rationale(criterion, score: int) -> str:
    level = next(lv for lv in criterion.levels if lv.score == score)
    return (f"Agreed at {score} ({level.label}): {level.descriptor} The panel saw this in the "
            f"work as a whole, not in one sentence.")


def _piece(pieces: dict, topic: dict, level: int, rng: np.random.Generator) -> str:
    """An opinion piece on `topic` whose craft matches `level` (1-4): more reasons, examples,
    linking words and paragraphs, and fewer slips, as the level rises."""
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
