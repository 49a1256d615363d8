"""Who scores what in a blind scoring round: the pure assignment engine.

Inputs are plain: the school of each sample and of each rater (positions in the caller's lists),
the number of ratings per sample and a random generator (or seed). Outputs are frozen
dataclasses of positions; the web layer maps them back to its ids and stores them. numpy and
scipy only, so this module imports without Flask or SQLAlchemy.

Why the design must connect schools
-----------------------------------
Rater severities, and so a school's leniency, are comparable only between raters linked by a
chain of shared samples (Linacre, *Many-Facet Rasch Measurement*, 1989; Eckes 2015 on
disconnected subsets; docs/methods.md, "Rater severity" and "School standards"). If a school's
teachers only ever shared samples with each other, a lenient school could not be told from a
school with strong students. So no rater gets their own school's work, each sample's raters come
from different schools where the pool allows it, and the rater-sample graph is checked (and
repaired) to be one connected component.

Algorithm of ``assign_raters`` (S samples, R raters, N ratings per sample)
-------------------------------------------------------------------------
1. Greedy by least load. Samples are visited in random order. Each takes, one at a time, the
   least-loaded rater outside its school, ties broken at random per rater, but from a school not
   yet on the sample unless a chosen school offers a strictly lower load (a heap of raters per
   school and a heap of schools keyed by their least-loaded rater). So a sample's N raters come
   from N different schools whenever that costs no balance, and a large school with little
   work from others still gets its share of it. O(S N log R).
2. Balance. While one rater has at least two ratings more than another, look for a transfer
   chain: rater u1 hands sample s1 to u2, who hands s2 to u3, ..., ending at a rater whose load is
   at least two below u1's; each taker is eligible for the sample and not already on it, so every
   rule still holds and only the two ends change load. One breadth-first pass from the raters in
   decreasing order of load finds such a chain if one exists. When none exists the loads minimise
   the sum of squared loads: this is a convex-cost flow and a chain is exactly a negative cycle
   of its residual graph. Hence max - min load <= 1 whenever any valid design achieves it, and
   the loads are as even as the pool allows otherwise (for example a large school with few
   samples from the other schools). After step 1 there is usually nothing to do.
3. Connect. ``scipy.sparse.csgraph.connected_components`` on the bipartite rater-sample graph.
   While more than one component holds samples, swap the raters of two slots in different
   components, (s1, u1), (s2, u2) -> (s1, u2), (s2, u1), choosing eligible ones: the loads and
   the rules are unchanged, and the components merge unless both removed edges were bridges
   (then the swap is undone and another tried, up to ``MERGE_ATTEMPTS``). When no swap can
   work (samples from only some schools, or a large school whose raters can only take the few
   samples of the others and get all of them), one rating is moved instead: a sample outside the
   largest component gets an eligible rater from inside it in place of its most loaded rater,
   and step 2 runs again without touching that sample. The move is kept if the components merge
   and a balanced design is still balanced; an uneven one (balance infeasible) may lose one unit
   of balance, because connectivity is what makes severities comparable. Left as reported:
   N = 1 (every design is then a forest of stars), two schools (each school's raters see only
   the other's work, so the two never share a sample; the common calibration set is the remedy),
   raters left idle (S N < R), and small rounds where no swap or move connects a balanced design.

Guarantees: no rater gets a sample of their own school; every sample has exactly N distinct
raters; max - min load <= 1 whenever feasible; the same seed gives the same plan. Requests that
cannot be met (an empty pool, N larger than the raters outside some sample's school) raise
``AssignmentError`` with a message for the user. A rater who works at several schools (a
teacher at two, or one who also coaches another) is kept off all of them afterwards by
``keep_off_own_schools``, which swaps slots between samples and leaves the loads as they were.
Measured at district scale (60,000 samples, 3,000 raters, 300 schools, N = 3): 0.5-0.6 s, one
component (``benchmarks/assignment_round.py``).

Validity papers and the common calibration set
----------------------------------------------
``plan_validity_papers`` decides how many anchor papers each queue gets and which;
``common_calibration_set`` picks the anchors every rater scores; ``queue_order`` shuffles a
rater's live, validity and calibration items into the order the rater sees, so anchors cannot
be told from live work by their position. Pass the validity planner the anchors not in the
calibration set, or a rater would meet the same paper twice.
"""

import heapq
from collections import deque
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

DEFAULT_RATINGS_PER_SAMPLE = 3
DEFAULT_CALIBRATION_SET_SIZE = 5
MERGE_ATTEMPTS = 50

SeedLike = np.random.Generator | int | None


class AssignmentError(ValueError):
    """A round that cannot be assigned as asked; the message is for the user."""


@dataclass(frozen=True, eq=False)
class DesignReport:
    """How well a design links raters and schools; shown on the round page.

    ``n_components`` counts the connected components of the rater-sample graph, idle raters
    included (each is its own component); ``is_connected`` means one component. A school pair
    is linked when some sample has raters from both schools; raters without a school count as
    one group. ``school_pair_coverage`` is None with fewer than two schools in the pool.
    ``multi_school_sample_share`` is the share of samples whose raters come from >= 2 schools.
    """

    n_samples: int
    n_raters: int
    n_ratings: int
    n_components: int
    is_connected: bool
    n_idle_raters: int
    load_min: int
    load_max: int
    linked_school_pairs: int
    school_pairs: int
    school_pair_coverage: float | None
    multi_school_sample_share: float


@dataclass(frozen=True, eq=False)
class AssignmentPlan:
    """The raters of each sample: ``raters[s]`` holds N rater positions for sample position s.

    ``loads[r]`` is the number of samples rater r scores. Arrays are read-only.
    """

    raters: np.ndarray
    loads: np.ndarray
    report: DesignReport

    @property
    def pairs(self) -> np.ndarray:
        """(S N, 2) int64 array of (sample position, rater position), one row per rating."""
        n_samples, n = self.raters.shape
        return np.column_stack([np.repeat(np.arange(n_samples), n), self.raters.ravel()])

    def samples_by_rater(self) -> tuple[np.ndarray, ...]:
        """For each rater position, the sample positions in their live queue (ascending)."""
        n = self.raters.shape[1]
        order = np.argsort(self.raters.ravel(), kind="stable")
        return tuple(np.split(order // n, np.cumsum(self.loads)[:-1]))


class ItemKind(StrEnum):
    LIVE = "live"
    VALIDITY = "validity"
    CALIBRATION = "calibration"


@dataclass(frozen=True)
class OrderedItem:
    """One item of a rater's queue as ``queue_order`` placed it: the caller's id, its kind."""

    item_id: Hashable
    kind: ItemKind


@dataclass(frozen=True, eq=False)
class _Schools:
    """School codes: raters' are 0..n_groups-1 (raters without a school share one code);
    a sample's is its school's rater code, or -1 when no rater of the pool can conflict with it."""

    sample: np.ndarray
    rater: np.ndarray
    n_groups: int


def assign_raters(
    sample_schools: Sequence[Hashable],
    rater_schools: Sequence[Hashable],
    ratings_per_sample: int = DEFAULT_RATINGS_PER_SAMPLE,
    *,
    rng: SeedLike = None,
) -> AssignmentPlan:
    """Assign each sample to ``ratings_per_sample`` distinct raters outside its school.

    ``sample_schools[i]`` is the school of sample i, ``rater_schools[j]`` the school of rater j
    (any hashable ids; None means no school, which conflicts with nothing). Returns positions
    into these sequences. The algorithm and its guarantees are in the module docstring.
    Raises AssignmentError when the request cannot be met.
    """
    rng = np.random.default_rng(rng)
    schools = _encode_schools(sample_schools, rater_schools)
    _check_feasible(schools, ratings_per_sample, sample_schools)
    raters = _greedy(schools, int(ratings_per_sample), rng)
    loads = np.bincount(raters.ravel(), minlength=len(schools.rater))
    _balance(raters, loads, schools)
    _connect(raters, loads, schools, rng)
    report = _report(_pairs_of(raters), schools)
    raters.flags.writeable = False
    loads.flags.writeable = False
    return AssignmentPlan(raters=raters, loads=loads, report=report)


def design_report(
    pairs: np.ndarray, sample_schools: Sequence[Hashable], rater_schools: Sequence[Hashable]
) -> DesignReport:
    """Report on any design given as (sample position, rater position) rows, e.g. from storage.

    Samples may have different numbers of raters; the positions index the school sequences.
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    return _report(pairs, _encode_schools(sample_schools, rater_schools))


class OwnSchoolConflict(AssignmentError):
    """No exchange of slots keeps rater position ``rater`` off the work of every school they
    work at."""

    def __init__(self, rater: int):
        super().__init__(f"Rater {rater} works at more than one school of this round, and no "
                         f"exchange keeps them off their own schools' work.")
        self.rater = rater


def keep_off_own_schools(
    plan: AssignmentPlan,
    sample_schools: Sequence[Hashable],
    rater_schools: Sequence[Hashable],
    staff_schools: Sequence[set],
    rng: SeedLike = None,
) -> AssignmentPlan:
    """The plan with raters swapped between slots until nobody has a sample of any school they
    work at.

    ``assign_raters`` keeps each rater off one school (``rater_schools``); a teacher at several
    schools, or one who also coaches another, works at all of ``staff_schools[r]``. Each slot
    that breaks this is swapped with a slot of another sample, chosen in random order, that
    both raters may take; loads stay the same. Returns ``plan`` itself when nothing had to move,
    else a new plan whose report is recomputed. Raises ``OwnSchoolConflict`` naming the rater
    when no swap works.
    """
    rng = np.random.default_rng(rng)
    design = np.array(plan.raters)
    n_samples, n = design.shape

    def fits(rater: int, sample: int) -> bool:
        return sample_schools[sample] not in staff_schools[rater] and rater not in design[sample]

    moved = False
    for s in range(n_samples):
        for k in range(n):
            u = int(design[s, k])
            if sample_schools[s] not in staff_schools[u]:
                continue
            for s2 in rng.permutation(n_samples).tolist():
                swap = next((k2 for k2 in range(n) if s2 != s
                             and fits(int(design[s2, k2]), s) and fits(u, s2)), None)
                if swap is not None:
                    design[s, k], design[s2, swap] = design[s2, swap], u
                    moved = True
                    break
            else:
                raise OwnSchoolConflict(u)
    if not moved:
        return plan
    design.flags.writeable = False
    return AssignmentPlan(raters=design, loads=plan.loads,
                          report=design_report(_pairs_of(design), sample_schools, rater_schools))


def common_calibration_set(
    anchor_ids: Sequence[Hashable], size: int = DEFAULT_CALIBRATION_SET_SIZE, rng: SeedLike = None
) -> tuple[Hashable, ...]:
    """Pick ``size`` anchors that every rater of the round scores, in the pool's order.

    The common set links every rater to every other, which is what makes schools comparable
    (docs/methods.md, "School standards": >= 5 anchors). ``size=0`` means no common set.
    """
    anchors = list(anchor_ids)
    if size < 0:
        raise AssignmentError("The calibration set size cannot be negative.")
    if size > len(anchors):
        raise AssignmentError(
            f"The common calibration set needs {size} anchor papers, but this rubric version "
            f"has only {len(anchors)} agreed anchors. Add anchors or choose a smaller set."
        )
    picks = np.sort(np.random.default_rng(rng).choice(len(anchors), size, replace=False))
    return tuple(anchors[i] for i in picks.tolist())


def plan_validity_papers(
    live_counts: Sequence[int], rate: float, anchor_ids: Sequence[Hashable], rng: SeedLike = None
) -> tuple[tuple[Hashable, ...], ...]:
    """For each rater, the anchor papers to seed into their queue.

    ``rate`` is the share of a queue that is validity papers (0.1: about one item in ten), so a
    rater with L live items is due x = L rate / (1 - rate) papers. Counting rule: each queue
    gets floor(x) or ceil(x) papers, the extra one with probability frac(x), by systematic
    rounding over the raters in random order; so the round's total is within one paper of the
    sum of the x, and short queues still get their share on average. Within a queue the papers
    are distinct anchors drawn at random, at most one per anchor (so at most len(anchor_ids)).
    """
    rng = np.random.default_rng(rng)
    live = np.asarray(live_counts, dtype=np.int64).reshape(-1)
    anchors = list(anchor_ids)
    if not 0 <= rate < 1:
        raise AssignmentError(
            "The validity-paper rate must be at least 0 and below 1 (0.1 means about one item "
            "in ten)."
        )
    if np.any(live < 0):
        raise AssignmentError("A queue cannot have a negative number of live items.")
    if rate > 0 and live.sum() > 0 and not anchors:
        raise AssignmentError(
            "Validity papers need agreed anchor papers for this rubric version, and it has none "
            "yet. Add anchors or set the validity rate to 0."
        )
    counts = np.minimum(_validity_counts(live, rate, rng), len(anchors))
    return tuple(
        tuple(anchors[i] for i in rng.choice(len(anchors), count, replace=False).tolist())
        for count in counts.tolist()
    )


def queue_order(
    live: Sequence[Hashable],
    validity: Sequence[Hashable] = (),
    calibration: Sequence[Hashable] = (),
    rng: SeedLike = None,
) -> tuple[OrderedItem, ...]:
    """The order in which a rater sees their items: a uniform shuffle of all of them.

    Anchors sit at random positions among live work, so neither their place nor their
    neighbours give them away; the web layer stores each item's index as its position.
    """
    items = (
        [OrderedItem(item, ItemKind.LIVE) for item in live]
        + [OrderedItem(item, ItemKind.VALIDITY) for item in validity]
        + [OrderedItem(item, ItemKind.CALIBRATION) for item in calibration]
    )
    order = np.random.default_rng(rng).permutation(len(items))
    return tuple(items[i] for i in order.tolist())


def _validity_counts(live: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """floor or ceil of each due count by systematic rounding (see plan_validity_papers)."""
    # Rounded to drop float noise, so that 90 live items at rate 0.1 are due exactly 10.
    due = np.round(live * (rate / (1 - rate)), 9)
    order = rng.permutation(len(due))
    edges = np.floor(np.concatenate([[0.0], np.cumsum(due[order])]) + rng.random())
    counts = np.empty(len(due), dtype=np.int64)
    counts[order] = np.diff(edges)
    # Clipping only guards against float error in the running sum.
    return np.clip(counts, np.floor(due), np.ceil(due)).astype(np.int64)


def _encode_schools(
    sample_schools: Sequence[Hashable], rater_schools: Sequence[Hashable]
) -> _Schools:
    codes: dict[Hashable, int] = {}
    rater = np.fromiter(
        (codes.setdefault(school, len(codes)) for school in rater_schools),
        dtype=np.int64, count=len(rater_schools),
    )
    sample = np.fromiter(
        (-1 if school is None else codes.get(school, -1) for school in sample_schools),
        dtype=np.int64, count=len(sample_schools),
    )
    return _Schools(sample=sample, rater=rater, n_groups=len(codes))


def _check_feasible(schools: _Schools, n: object, sample_schools: Sequence[Hashable]) -> None:
    n_raters = len(schools.rater)
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise AssignmentError("The number of ratings per sample must be a whole number, 1 or more.")
    if n_raters == 0:
        raise AssignmentError("The round has no raters; add teachers to its pool before assigning.")
    if len(schools.sample) == 0:
        raise AssignmentError("The round has no samples to assign yet.")
    own = np.bincount(schools.rater, minlength=schools.n_groups)[schools.sample]
    own[schools.sample < 0] = 0
    worst = int(np.argmax(own))
    if n_raters - own[worst] >= n:
        return
    if own[worst] == 0:
        raise AssignmentError(
            f"Each sample needs {n} different raters, but the pool has only {n_raters}. "
            "Lower the ratings per sample or add raters."
        )
    raise AssignmentError(
        f"Samples from school {sample_schools[worst]} can go only to the {n_raters - own[worst]} "
        f"raters from other schools, but each sample needs {n}. Lower the ratings per sample or "
        "add raters from other schools."
    )


def _tie_breaks(rng: np.random.Generator) -> Iterator[float]:
    while True:
        yield from rng.random(4096).tolist()


def _greedy(schools: _Schools, n: int, rng: np.random.Generator) -> np.ndarray:
    ties = _tie_breaks(rng)
    heaps: list[list[tuple[int, float, int]]] = [[] for _ in range(schools.n_groups)]
    for rater, group in enumerate(schools.rater.tolist()):
        heaps[group].append((0, next(ties), rater))
    for heap in heaps:
        heapq.heapify(heap)
    # A school's key is its least-loaded rater's, so picks are uniform over the least-loaded
    # raters (not over schools, which would pair the last few schools of each load level).
    top = [(*heap[0][:2], group) for group, heap in enumerate(heaps)]
    heapq.heapify(top)
    sample_codes = schools.sample.tolist()
    raters = np.empty((len(sample_codes), n), dtype=np.int64)
    for sample in rng.permutation(len(sample_codes)).tolist():
        raters[sample] = _pick(sample_codes[sample], n, heaps, top, ties)
    return raters


def _pick(own: int, n: int, heaps: list, top: list, ties: Iterator[float]) -> list[int]:
    """The n least-loaded raters outside school ``own``, from n different schools unless a
    second rater of a chosen school has a strictly lower load than any other school offers."""
    chosen, groups, own_entry = [], [], None
    for _ in range(n):
        if top and top[0][2] == own:
            own_entry = heapq.heappop(top)
        same = min(((heaps[g][0], g) for g in groups if heaps[g]), default=None)
        if same is not None and (not top or same[0][0] < top[0][0]):
            group = same[1]
        else:
            group = heapq.heappop(top)[2]
            groups.append(group)
        chosen.append((group, *heapq.heappop(heaps[group])))
    for group, load, _, rater in chosen:
        heapq.heappush(heaps[group], (load + 1, next(ties), rater))
    for group in groups:
        heapq.heappush(top, (*heaps[group][0][:2], group))
    if own_entry is not None:
        heapq.heappush(top, own_entry)
    return [rater for *_, rater in chosen]


def _balance(raters: np.ndarray, loads: np.ndarray, schools: _Schools,
             frozen: int | None = None) -> None:
    """Apply transfer chains until none exists (module docstring, step 2); in place.

    A ``frozen`` sample keeps its raters (step 3 uses it to keep the link it has just made).
    """
    if loads.max() - loads.min() <= 1:
        return
    held: list[set[int]] = [set() for _ in range(len(loads))]
    for sample, row in enumerate(raters.tolist()):
        for rater in row:
            held[rater].add(sample)
    while loads.max() - loads.min() > 1:
        chain = _transfer_chain(raters, held, loads, schools, frozen)
        if chain is None:
            return
        for sample, giver, taker in chain:
            raters[sample][raters[sample] == giver] = taker
            held[giver].remove(sample)
            held[taker].add(sample)
        loads[chain[-1][1]] -= 1
        loads[chain[0][2]] += 1


def _transfer_chain(raters: np.ndarray, held: list[set[int]], loads: np.ndarray,
                    schools: _Schools, frozen: int | None) -> list[tuple[int, int, int]] | None:
    """A chain of (sample, giver, taker) hand-overs from a rater to one >= 2 loads lower.

    Breadth-first from the raters of each load level in decreasing order; a rater reached from
    a higher level is not searched again, since anything it reaches was reachable from there.
    Each sample is expanded once: its takers are the same whoever holds it.
    """
    remaining = np.arange(len(loads))
    reached = np.zeros(len(loads), dtype=bool)
    expanded = np.zeros(len(raters), dtype=bool)
    if frozen is not None:
        expanded[frozen] = True
    parent: dict[int, tuple[int, int]] = {}
    # Unreached raters per school: skips samples that only their own school could still take.
    unreached = np.bincount(schools.rater, minlength=schools.n_groups + 1)
    unreached[-1] = 0
    for level in np.unique(loads)[::-1].tolist():
        if level - 2 < loads.min() or remaining.size == 0:
            return None
        roots = remaining[loads[remaining] == level]
        reached[roots] = True
        remaining = remaining[~reached[remaining]]
        unreached -= np.bincount(schools.rater[roots], minlength=len(unreached))
        queue = deque(roots.tolist())
        while queue and remaining.size:
            giver = queue.popleft()
            for sample in held[giver]:
                if expanded[sample] or remaining.size == unreached[schools.sample[sample]]:
                    continue
                expanded[sample] = True
                takers = remaining[schools.rater[remaining] != schools.sample[sample]]
                takers = takers[~np.isin(takers, raters[sample])]
                reached[takers] = True
                remaining = remaining[~reached[remaining]]
                unreached -= np.bincount(schools.rater[takers], minlength=len(unreached))
                for taker in takers.tolist():
                    parent[taker] = (sample, giver)
                low = takers[loads[takers] <= level - 2]
                if low.size:
                    return _unwind(parent, int(low[np.argmin(loads[low])]))
                queue.extend(takers.tolist())
    return None


def _unwind(parent: dict[int, tuple[int, int]], taker: int) -> list[tuple[int, int, int]]:
    chain = []
    while taker in parent:
        sample, giver = parent[taker]
        chain.append((sample, giver, taker))
        taker = giver
    return chain


def _pairs_of(raters: np.ndarray) -> np.ndarray:
    n_samples, n = raters.shape
    return np.column_stack([np.repeat(np.arange(n_samples), n), raters.ravel()])


def _components(pairs: np.ndarray, n_samples: int, n_raters: int) -> np.ndarray:
    """Component label of each node: samples first, then raters."""
    size = n_samples + n_raters
    graph = coo_array(
        (np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], n_samples + pairs[:, 1])),
        shape=(size, size),
    ).tocsr()
    return connected_components(graph, directed=False)[1]


def _labels(raters: np.ndarray, n_raters: int) -> np.ndarray:
    return _components(_pairs_of(raters), len(raters), n_raters)


def _n_working(labels: np.ndarray, n_samples: int) -> int:
    """Components that hold samples (idle raters cannot be connected by any design)."""
    return np.unique(labels[:n_samples]).size


def _connect(raters: np.ndarray, loads: np.ndarray, schools: _Schools,
             rng: np.random.Generator) -> None:
    """Merge components by swaps, else by moves (module docstring, step 3); in place."""
    if raters.shape[1] < 2:
        return
    labels = _labels(raters, len(loads))
    while _n_working(labels, len(raters)) > 1:
        merged = _swap_once(raters, schools, labels, rng)
        if merged is None:
            merged = _move_once(raters, loads, schools, labels)
        if merged is None:
            return
        labels = merged


def _swap_once(raters: np.ndarray, schools: _Schools, labels: np.ndarray,
               rng: np.random.Generator) -> np.ndarray | None:
    """One load-preserving swap merging the largest component with another: new labels, or None."""
    count = _n_working(labels, len(raters))
    sample_labels = labels[: len(raters)]
    largest = np.argmax(np.bincount(sample_labels))
    inside = np.flatnonzero(sample_labels == largest)
    outside = np.flatnonzero(sample_labels != largest)
    for _ in range(MERGE_ATTEMPTS):
        s0, j0 = int(rng.choice(inside)), int(rng.integers(raters.shape[1]))
        u0 = raters[s0, j0]
        slots = np.argwhere(
            (schools.rater[raters[outside]] != schools.sample[s0])
            & (schools.rater[u0] != schools.sample[outside])[:, None]
        )
        if slots.size == 0:
            continue
        row, j1 = slots[rng.integers(len(slots))]
        s1 = outside[row]
        u1 = raters[s1, j1]
        raters[s0, j0], raters[s1, j1] = u1, u0
        after = _labels(raters, len(schools.rater))
        if _n_working(after, len(raters)) < count:
            return after
        raters[s0, j0], raters[s1, j1] = u0, u1
    return None


def _move_once(raters: np.ndarray, loads: np.ndarray, schools: _Schools,
               labels: np.ndarray) -> np.ndarray | None:
    """Move one rating so that two components merge, trying the largest component as the
    receiving side first and then the others. In place; the new labels, or None."""
    sample_labels = labels[: len(raters)]
    sizes = np.bincount(sample_labels)
    for target in np.argsort(-sizes, kind="stable")[: np.count_nonzero(sizes)].tolist():
        merged = _move_into(raters, loads, schools, labels, target)
        if merged is not None:
            return merged
    return None


def _move_into(raters: np.ndarray, loads: np.ndarray, schools: _Schools, labels: np.ndarray,
               target: int) -> np.ndarray | None:
    """Give one rating of a sample outside component ``target`` to an eligible rater inside it,
    taken from the most loaded rater and given to the least loaded possible, then rebalance
    without touching that sample. Kept if components merge and a balanced design stays
    balanced."""
    count = _n_working(labels, len(raters))
    was_balanced = loads.max() - loads.min() <= 1
    inside = np.flatnonzero(labels[len(raters):] == target)
    outside = np.flatnonzero(labels[: len(raters)] != target)
    order = np.argsort(-loads[raters[outside]], axis=None, kind="stable")[:MERGE_ATTEMPTS]
    rows, columns = np.unravel_index(order, (len(outside), raters.shape[1]))
    for row, j1 in zip(rows.tolist(), columns.tolist(), strict=True):
        s1 = outside[row]
        takers = inside[schools.rater[inside] != schools.sample[s1]]
        if takers.size == 0:
            continue
        trial, trial_loads = raters.copy(), loads.copy()
        u0, u1 = takers[np.argmin(loads[takers])], raters[s1, j1]
        trial[s1, j1] = u0
        trial_loads[u0] += 1
        trial_loads[u1] -= 1
        _balance(trial, trial_loads, schools, frozen=s1)
        if was_balanced and trial_loads.max() - trial_loads.min() > 1:
            continue
        after = _labels(trial, len(loads))
        if _n_working(after, len(raters)) < count:
            raters[:], loads[:] = trial, trial_loads
            return after
    return None


def _report(pairs: np.ndarray, schools: _Schools) -> DesignReport:
    n_samples, n_raters, groups = len(schools.sample), len(schools.rater), schools.n_groups
    loads = np.bincount(pairs[:, 1], minlength=n_raters)
    n_components = np.unique(_components(pairs, n_samples, n_raters)).size
    incidence = coo_array(
        (np.ones(len(pairs), dtype=np.int64), (pairs[:, 0], schools.rater[pairs[:, 1]])),
        shape=(n_samples, groups),
    ).tocsr()
    incidence.sum_duplicates()
    shared = (incidence.T @ incidence).tocoo()
    linked = int(np.count_nonzero(shared.row < shared.col))
    school_pairs = groups * (groups - 1) // 2
    return DesignReport(
        n_samples=n_samples,
        n_raters=n_raters,
        n_ratings=len(pairs),
        n_components=int(n_components),
        is_connected=bool(n_components == 1),
        n_idle_raters=int(np.count_nonzero(loads == 0)),
        load_min=int(loads.min()) if n_raters else 0,
        load_max=int(loads.max()) if n_raters else 0,
        linked_school_pairs=linked,
        school_pairs=school_pairs,
        school_pair_coverage=linked / school_pairs if school_pairs else None,
        multi_school_sample_share=float(np.mean(np.diff(incidence.indptr) >= 2))
        if n_samples else 0.0,
    )
