"""A session's summary as tables, for its XLSX download (reports.exports.tables_xlsx writes
them, text never as a formula). The same figures as the summary page, one sheet each."""

from __future__ import annotations

from moderation.reports.tables import Table
from moderation.sessions.models import Session, SessionParticipant
from moderation.sessions.queries import CriterionAgreement


def summary_tables(session: Session, agreement: list[CriterionAgreement],
                   attendance: list[SessionParticipant],
                   dissent: dict[int, list[str]]) -> dict[str, Table]:
    items = sorted(session.items, key=lambda item: item.position)
    return {
        "Agreement": Table.of(
            ("Criterion", "Exact agreement before discussion", "Pairs before",
             "Exact agreement after discussion", "Pairs after"),
            [(a.criterion.name, a.before, a.n_before, a.after, a.n_after) for a in agreement]),
        "Consensus": Table.of(
            ("Item", "Sample", "Outcome", "Criterion", "How it was reached", "Agreed level",
             "Rationale", "Evidence in the work"),
            [(item.position + 1, item.sample.code, item.state.value, c.criterion.name,
              c.method.label, c.level, c.rationale, c.evidence)
             for item in items for c in item.consensus]),
        "Dissent": Table.of(("Item", "Sample", "Note (kept without a name)"),
                            [(item.position + 1, item.sample.code, text)
                             for item in items for text in dissent.get(item.id, ())]),
        "Attendance": Table.of(("Name", "Role"),
                               [(p.user.display_name, p.role.value.replace("_", "-"))
                                for p in attendance]),
    }
