"""The coach's round report: the sections of the page, built from the run's parts as one
audience reads them (audience.visible). Pure: no Flask, no database.

Charts take tens to hundreds of milliseconds each to render, so `build` asks a chart cache for
each one by its key: its name and the digest of the data it draws (chart_key), labels included.
The same data read by the same kind of reader renders nothing twice, and a change of labels or
data renders afresh. ChartCache keeps charts in the process (CHART_CACHE); reports.pages puts the
charts stored with a run in front of it.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from moderation.core.source_digest import source_digest
from moderation.reports import charts, wording
from moderation.reports.audience import Audience, hidden_triggers, visible
from moderation.reports.charts import Chart
from moderation.reports.tables import Table

# The run's parts each section reads (analysis.models.PARTS).
PAGE_PARTS = ("criteria", "raters", "design", "triggers", "summary")
SESSION_ACTIONS = ("moderation_session", "cross_school_session")
CACHE_SIZE = 256
# Drift timelines drawn, the largest changes first: a district flags hundreds of raters, and a
# page of hundreds of charts is read by nobody (the rest are listed in a table).
MAX_DRIFT_CHARTS = 6
T = TypeVar("T")
# The code a chart's drawing depends on (the SVG, its words and its table).
CHART_CODE = source_digest(*(str(Path(__file__).with_name(module))
                             for module in ("charts.py", "svg.py", "wording.py", "tables.py")))


@dataclass(frozen=True)
class CriterionLine:
    name: str
    evidence: str   # the alpha sentence against the district's thresholds
    icc: str        # the ICC figure with its interval, or "" without one


@dataclass(frozen=True)
class Finding:
    reason: str
    priority: int
    action: str | None
    samples: tuple[str, ...]  # the prepared sample list of a proposed session, by code


@dataclass(frozen=True)
class RoundReport:
    reliability: Chart | None
    criteria: tuple[CriterionLine, ...]
    agreement: tuple[tuple[str, tuple[Chart, ...]], ...]  # per criterion, its matrices
    severity: Chart | None           # None where the reader sees no raters
    drift: tuple[Chart, ...]         # the MAX_DRIFT_CHARTS largest changes
    drift_table: Table | None        # every rater whose scoring changed, when there are more
    n_raters_measured: int
    design: dict
    findings: tuple[Finding, ...]
    n_findings_hidden: int

    @property
    def charts(self) -> tuple[Chart, ...]:
        matrices = (chart for _, pair in self.agreement for chart in pair)
        return tuple(chart for chart in (self.reliability, *matrices, self.severity,
                                         *self.drift) if chart is not None)


def chart_key(name: str, data) -> str:
    """A chart's identity: its name, the data it draws and the code that draws it, as 32 hex
    digits (a chart stored by other code is drawn afresh)."""
    digest = hashlib.sha256(f"{name}\0{CHART_CODE}\0".encode())
    digest.update(json.dumps(data, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:32]


class ChartSource(Protocol):
    """Where `build` gets its charts: `build()` renders one the source does not hold."""

    def get(self, name: str, data, build: Callable[[], Chart]) -> Chart: ...


class LruCache(Generic[T]):
    """A bounded in-process map by key; the least recently used entry goes first."""

    def __init__(self, size: int):
        self.size = size
        self._entries: OrderedDict[str, T] = OrderedDict()

    def clear(self) -> None:
        """Forget everything (as a new process starts)."""
        self._entries.clear()

    def get_by_key(self, key: str, build: Callable[[], T]) -> T:
        if key in self._entries:
            self._entries.move_to_end(key)
            return self._entries[key]
        entry = self._entries[key] = build()
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return entry


class ChartCache(LruCache[Chart]):
    """Rendered charts by chart_key."""

    def __init__(self, size: int = CACHE_SIZE):
        super().__init__(size)

    def get(self, name: str, data, build: Callable[[], Chart]) -> Chart:
        return self.get_by_key(chart_key(name, data), build)


CHART_CACHE = ChartCache()


def build(fields: dict, audience: Audience, *, thresholds: tuple[float, float],
          period: tuple[str, str] | None, cache: ChartSource = CHART_CACHE) -> RoundReport:
    """The page's sections from the run's PAGE_PARTS fields. thresholds: the district's
    (alpha_discard, alpha_rely); period: the first and last blind rating, for drift charts."""
    shown = visible(fields, audience)
    tentative, reliable = thresholds
    criteria = shown["criteria"]
    reliability = cache.get("reliability", [criteria, thresholds], lambda: charts.reliability(
        criteria, thresholds=thresholds)) if criteria else None
    raters = shown["raters"] if audience.shows_raters else []
    return RoundReport(
        reliability=reliability,
        criteria=tuple(CriterionLine(
            criterion["criterion"],
            wording.describe_reliability(criterion["alpha"], criterion["alpha_ci95"],
                                         tentative=tentative, reliable=reliable),
            _icc(criterion)) for criterion in criteria),
        agreement=tuple(_agreement(criteria, cache)),
        severity=_severity(raters, cache) if audience.shows_raters else None,
        drift=tuple(_drift(raters, period, cache)),
        drift_table=_drift_table(raters) if period is not None else None,
        n_raters_measured=sum(bool(rater["fair_average_difference_ci95"])
                              for rater in fields["raters"]),
        design=shown["design"],
        findings=tuple(_finding(trigger) for trigger in shown["triggers"]),
        n_findings_hidden=hidden_triggers(fields["triggers"], audience))


def _icc(criterion: dict, form: str = "ICC2") -> str:
    value = criterion["icc"].get(form)
    if value is None:
        return ""
    interval = criterion["icc_ci95"].get(form)
    return f"ICC {value:.2f}" + (f" ({wording.interval(*interval)})" if interval else "")


def _agreement(criteria: list[dict], cache: ChartSource):
    """Per criterion with any counts: its name and its matrices (anchor papers, readings)."""
    for criterion in criteria:
        matrices = tuple(
            cache.get(f"{matrix}:{criterion['criterion']}", criterion[matrix],
                      lambda criterion=criterion, matrix=matrix:
                      charts.agreement_matrix(criterion, matrix=matrix))
            for matrix in ("confusion", "readings")
            if criterion.get(matrix) and any(any(row) for row in criterion[matrix]["counts"]))
        if matrices:
            yield criterion["criterion"], matrices


def _severity(raters: list[dict], cache: ChartSource) -> Chart | None:
    if not raters:
        return None
    labels = {rater["rater"]: rater["rater"] for rater in raters}
    return cache.get("rater-severity", raters,
                     lambda: charts.rater_severity(raters, labels))


def _drifted(raters: list[dict]) -> list[dict]:
    """The raters flagged for drift with an estimate of it, the largest change first."""
    return sorted((rater for rater in raters if rater["drift"]["flagged"]
                   and rater["drift"]["onset"] is not None
                   and rater["drift"]["shift_points"] is not None),
                  key=lambda rater: (-abs(rater["drift"]["shift_points"]), rater["rater"]))


def _drift(raters: list[dict], period: tuple[str, str] | None, cache: ChartSource):
    if period is None:
        return
    for rater in _drifted(raters)[:MAX_DRIFT_CHARTS]:
        yield cache.get(f"drift:{rater['rater']}", [rater["drift"], period],
                        lambda rater=rater: charts.rater_drift(
                            rater, rater["rater"], period_start=period[0],
                            period_end=period[1]))


def _drift_table(raters: list[dict]) -> Table | None:
    """Every rater whose scoring changed, when there are more than have a chart."""
    drifted = _drifted(raters)
    if len(drifted) <= MAX_DRIFT_CHARTS:
        return None
    return Table.of(("Rater", "Changed around", "Change (points)", "95% low", "95% high",
                     "Timed ratings"),
                    [(rater["rater"], rater["drift"]["onset"][:10], rater["drift"]["shift_points"],
                      *(rater["drift"]["shift_points_ci95"] or (None, None)),
                      rater["drift"]["n_timed"]) for rater in drifted])


def _finding(trigger: dict) -> Finding:
    action = trigger["action"] or {}
    material = action.get("material") or {}
    samples = material.get("samples") or () if action.get("kind") in SESSION_ACTIONS else ()
    return Finding(trigger["reason"], trigger["priority"], action.get("description"),
                   tuple(sample["sample"] if isinstance(sample, dict) else sample
                         for sample in samples))


# The run's parts the schools page reads.
SCHOOL_PARTS = ("schools", "equity")


@dataclass(frozen=True)
class SchoolsReport:
    """A round's school standards for who sees every school: no league table, no ranks."""

    funnel: Chart | None
    local_gap: Chart | None
    equity: tuple[Chart, ...]
    equity_sentences: tuple[str, ...]   # analyses without a chart (no context to draw)
    n_schools: int
    n_suppressed: int

    @property
    def charts(self) -> tuple[Chart, ...]:
        return tuple(chart for chart in (self.funnel, self.local_gap, *self.equity)
                     if chart is not None)


def build_schools(fields: dict, audience: Audience, context: dict[str, dict[str, float]],
                  *, cache: ChartSource = CHART_CACHE) -> SchoolsReport:
    """The schools page from the run's SCHOOL_PARTS fields. context: measure key -> school
    name -> value, shares in percent (as the engine's equity analysis reads them)."""
    shown = visible(fields, audience)
    schools = shown["schools"]
    report = {"schools": schools, "equity": shown.get("equity") or []}
    drawn, sentences = [], []
    for entry in report["equity"]:
        values = context.get(entry["context"], {})
        if entry["slope"] is not None and len(values) >= 2:
            drawn.append(cache.get(f"equity:{entry['context']}:{entry['outcome']}",
                                   [entry, schools, values],
                                   lambda entry=entry, values=values: charts.equity_plot(
                                       report, values, column=entry["context"],
                                       outcome=entry["outcome"])))
        else:
            # The report's words, not the engine's (which names the context by its column).
            sentences.append(wording.equity_sentence(entry))
    measured = [school for school in schools if not school["suppressed"]]
    return SchoolsReport(
        funnel=cache.get("school-funnel", schools, lambda: charts.school_funnel(schools))
        if measured else None,
        local_gap=cache.get("local-gap", schools, lambda: charts.local_gap(schools))
        if any(school["local_gap_ci95"] for school in measured) else None,
        equity=tuple(drawn), equity_sentences=tuple(sentences), n_schools=len(schools),
        n_suppressed=len(schools) - len(measured))
