"""The audit log in words: filters from a query string, each event as a sentence, CSV rows.

Events keep ids and codes (never a student's name); this module turns them into names for
people. It reads other domains' models (rubrics, rounds) for their names only, once per kind of
thing per batch of events, never once per row.
"""

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from moderation.accounts.models import District, Role, School, User
from moderation.core import audit, timezones
from moderation.core.audit import AuditEvent, Filters, Scope
from moderation.core.extensions import db
from moderation.core.spreadsheets import escape_text
from moderation.scoring.models import ScoringRound
from moderation.settings.models import SPECS
from rubrics.models import Criterion, Rubric, RubricVersion

DATE_HINT = "Enter the date as YYYY-MM-DD, for example 2026-03-01."

# A live session's events: the label, and the sentence's verb phrase before the session's title.
SESSION_EVENTS = {
    "session_created": ("Session set up", "Set up the session"),
    "session_joined": ("Session joined", "Joined the session"),
    "session_started": ("Session started", "Started the session"),
    "session_scores_submitted": ("Session scores submitted", "Submitted scores in the session"),
    "session_item_revealed": ("Session scores revealed", "Revealed the scores in the session"),
    "session_discussion_started": ("Session discussion", "Opened the discussion in the session"),
    "session_rescoring_started": ("Session rescoring", "Asked for rescores in the session"),
    "session_consensus_recorded": ("Consensus recorded", "Recorded a consensus in the session"),
    "session_item_concluded": ("Session item concluded", "Concluded an item of the session"),
    "session_item_skipped": ("Session item skipped", "Skipped an item of the session"),
    "session_agenda_reordered": ("Session agenda reordered", "Reordered the agenda of the session"),
    "session_debrief_started": ("Session debrief", "Moved to the debrief of the session"),
    "session_closed": ("Session closed", "Closed the session"),
    "session_taken_over": ("Session taken over", "Took over facilitating the session"),
}

ACTION_LABELS = {
    "login": "Logged in", "login_failed": "Failed login", "logout": "Logged out",
    "login_sso": "Logged in with single sign-on",
    "sso_login_refused": "Refused single sign-on",
    "password_login_refused": "Password login refused",
    "password_changed": "Changed password", "user_created": "Account created",
    "role_granted": "Role granted", "role_revoked": "Role removed",
    "person_updated": "Person edited", "person_deactivated": "Account deactivated",
    "person_reactivated": "Account reactivated",
    "district_created": "District created",
    "invitation_sent": "Invitation sent", "invitation_accepted": "Invitation accepted",
    "password_reset_requested": "Password reset asked for",
    "password_reset_refused": "Password reset refused", "password_reset": "Password reset",
    "sample_uploaded": "Sample uploaded", "sample_redaction_confirmed": "Redaction confirmed",
    "local_scores_recorded": "Local scores recorded", "anchor_promoted": "Anchor promoted",
    "sample_archived": "Sample archived", "sample_deleted": "Sample deleted",
    "sample_purged": "Sample purged",
    "scoring_round_opened": "Round opened", "scoring_round_closed": "Round closed",
    "analysis_run_requested": "Analysis asked for",
    "blind_scores_submitted": "Blind scores submitted",
    "blind_scores_revised": "Blind scores revised",
    "practice_privacy_changed": "Practice privacy changed",
    "district_time_zone_changed": "District time zone changed",
    "district_setting_changed": "District setting changed",
    "own_time_zone_changed": "Own time zone changed",
    "rubric_created": "Rubric created", "rubric_details_changed": "Rubric details changed",
    "rubric_version_created": "Rubric version created",
    "rubric_version_frozen": "Rubric version frozen",
    "rubric_criterion_deleted": "Criterion deleted", "rubric_level_deleted": "Level deleted",
    "rubric_imported": "Rubric imported",
    "school_created": "School created", "school_changed": "School changed",
    "school_archived": "School archived", "school_unarchived": "School unarchived",
    "context_measure_added": "Context measure added",
    "roster_imported": "Roster imported", "roster_person_created": "Person imported",
    "roster_person_linked": "Person linked to the roster",
    "roster_school_linked": "School linked to the roster",
    "ratings_imported": "Past moderation imported", "rater_imported": "Rater imported",
    **{action: label for action, (label, _) in SESSION_EVENTS.items()},
}
OBJECT_LABELS = {
    "User": "People", "WorkSample": "Work samples", "Anchor": "Anchor papers",
    "QueueItem": "Blind scoring", "ScoringRound": "Scoring rounds", "Rubric": "Rubrics",
    "RubricVersion": "Rubric versions", "District": "District settings",
    "School": "Schools", "ContextMeasure": "School context measures",
    "RosterImport": "Roster imports", "Session": "Live sessions",
}


def humanize(key: str) -> str:
    return key.replace("_", " ").strip().capitalize()


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action) or humanize(action)


def object_label(object_type: str) -> str:
    return OBJECT_LABELS.get(object_type) or humanize(re.sub(r"(?<!^)(?=[A-Z])", "_",
                                                            object_type))


# --- filters -----------------------------------------------------------------------------------

@dataclass
class FilterInput:
    """Filters read from a query string, with a message per field that could not be read."""

    filters: Filters
    page: int = 1
    district_id: int | None = None
    errors: dict[str, str] = field(default_factory=dict)


def _date(args: Mapping[str, str], name: str, errors: dict[str, str]) -> date | None:
    text = (args.get(name) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = DATE_HINT
        return None


def _number(args: Mapping[str, str], name: str, errors: dict[str, str], message: str
            ) -> int | None:
    text = (args.get(name) or "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 18:
        errors[name] = message
        return None
    return int(text)


def filters_from(args: Mapping[str, str], zone: tzinfo) -> FilterInput:
    """The filters in `args`; their dates are days in `zone`, the reader's."""
    errors: dict[str, str] = {}
    since, until = _date(args, "since", errors), _date(args, "until", errors)
    if since and until and until < since:
        errors["until"] = "The “to” date is before the “from” date."
    actor_id = _number(args, "actor", errors, "Choose a person from the list.")
    district_id = _number(args, "district", errors, "Choose a district from the list.")
    page = (args.get("page") or "").strip()
    filters = Filters(actor_id=actor_id, action=(args.get("action") or "").strip() or None,
                      object_type=(args.get("object") or "").strip() or None,
                      since=since, until=until, time_zone=zone)
    return FilterInput(filters, int(page) if page.isdigit() and len(page) < 9 else 1,
                       district_id, errors)


# --- names, in batches -------------------------------------------------------------------------

def _names_by_id(id_column, name_column, ids: Iterable[int]) -> dict[int, str]:
    ids = set(ids)
    if not ids:
        return {}
    return dict(db.session.execute(
        db.select(id_column, name_column).where(id_column.in_(ids))).all())


# What each kind of name is, and where it is read from.
_NAME_SOURCES = {
    "user": ("person", User.id, User.display_name),
    "school": ("school", School.id, School.name),
    "district": ("district", District.id, District.name),
    "rubric": ("rubric", Rubric.id, Rubric.title),
    "criterion": ("criterion", Criterion.id, Criterion.name),
    "round": ("round", ScoringRound.id, ScoringRound.name),
    "version": ("rubric version", None, None),
}


class Names:
    """Display names of everything a batch of events mentions, loaded one query per kind.

    names("round", 7) is the round's name, or a phrase saying it is gone.
    """

    def __init__(self, events: Iterable[AuditEvent]):
        wanted: dict[str, set[int]] = {kind: set() for kind in _NAME_SOURCES}
        for e in events:
            _collect(e, wanted)
        self.by_kind = {kind: _names_by_id(id_column, name_column, wanted[kind])
                        for kind, (_, id_column, name_column) in _NAME_SOURCES.items()
                        if id_column is not None}
        self.by_kind["version"] = _version_labels(wanted["version"])

    def __call__(self, kind: str, value) -> str:
        found = self.by_kind[kind].get(_int(value))
        return found if found is not None else f"a {_NAME_SOURCES[kind][0]} no longer on record"


def _version_labels(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = db.session.execute(
        db.select(RubricVersion.id, Rubric.title, RubricVersion.number)
        .join(Rubric, Rubric.id == RubricVersion.rubric_id).where(RubricVersion.id.in_(ids)))
    return {i: f"{title} (version {number})" for i, title, number in rows}


def _int(value) -> int | None:
    text = str(value)
    return int(text) if text.isdigit() and len(text) < 19 else None


_DETAIL_KINDS = {"school_id": "school", "district_id": "district",
                 "rubric_version_id": "version", "rubric_id": "rubric", "round_id": "round"}
_OBJECT_KINDS = {"User": "user", "District": "district", "School": "school",
                 "RubricVersion": "version",
                 "Rubric": "rubric", "ScoringRound": "round"}


def _collect(e: AuditEvent, wanted: dict[str, set[int]]) -> None:
    def want(kind: str, value) -> None:
        if (number := _int(value)) is not None:
            wanted[kind].add(number)

    if e.actor_id is not None:
        want("user", e.actor_id)
    if e.object_type in _OBJECT_KINDS and e.object_id is not None:
        want(_OBJECT_KINDS[e.object_type], e.object_id)
    details = e.details or {}
    for key, kind in _DETAIL_KINDS.items():
        if details.get(key) is not None:
            want(kind, details[key])
    for key in ("scores", "changes"):
        if isinstance(details.get(key), dict):
            for criterion_id in details[key]:
                want("criterion", criterion_id)
    # A person imported from a roster: their roles, each at a school or district-wide.
    for role in details.get("roles") if isinstance(details.get("roles"), list) else ():
        if isinstance(role, dict) and role.get("school_id") is not None:
            want("school", role["school_id"])
    for link in e.districts:
        want("district", link.district_id)


# --- sentences ---------------------------------------------------------------------------------

def _plural(n, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _size(n_bytes) -> str:
    if not isinstance(n_bytes, int | float):
        return "unknown size"
    for unit in ("bytes", "KB", "MB"):
        if n_bytes < 1024 or unit == "MB":
            return f"{n_bytes:.0f} {unit}" if unit == "bytes" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1024
    return ""


def _scores(scores, names: Names) -> str:
    if not isinstance(scores, dict) or not scores:
        return ""
    return "; ".join(f"{names('criterion', c)}: {s}" for c, s in scores.items())


def _changes(changes, names: Names) -> str:
    if not isinstance(changes, dict):
        return ""
    parts = []
    for criterion_id, pair in changes.items():
        old, new = pair if isinstance(pair, list | tuple) and len(pair) == 2 else ("?", pair)
        parts.append(f"{names('criterion', criterion_id)}: {old} → {new}")
    return "; ".join(parts)


def _role_at(d, n: Names) -> str:
    role = Role(d["role"]).label if d.get("role") in Role._value2member_map_ else "A role"
    where = (n("school", d["school_id"]) if d.get("school_id")
             else f"{n('district', d.get('district_id'))} (district-wide)")
    return f"{role} at {where}"


def _person_updated(d, n: Names) -> str:
    changes = d.get("changes") if isinstance(d.get("changes"), dict) else {}
    parts = [f"{field} from “{pair[0]}” to “{pair[1]}”" for field, pair in changes.items()
             if isinstance(pair, list | tuple) and len(pair) == 2]
    return "Changed " + ("; ".join(parts) if parts else "nothing") + "."


def _counted(n, one: str, many: str | None = None) -> str:
    """_plural() with thousands separators, for the counts of an import."""
    n = n if isinstance(n, int) else 0
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _ratings_imported(d, n: Names) -> str:
    schools = d.get("new_schools") if isinstance(d.get("new_schools"), list) else []
    created = f"; created {_counted(len(schools), 'school')}" if schools else ""
    return (f"Imported a past moderation “{d.get('name', '')}” from {d.get('file', 'a file')} "
            f"on {n('version', d.get('rubric_version_id'))}: "
            f"{_counted(d.get('ratings'), 'rating')} ({_counted(d.get('local'), 'local score')}) "
            f"by {_counted(d.get('raters'), 'rater')} ({d.get('new_raters', 0):,} new), "
            f"{_counted(d.get('samples'), 'sample')}, "
            f"{_counted(d.get('anchors'), 'anchor paper')}{created}.")


def _round_opened(d, n: Names) -> str:
    rate = d.get("validity_rate")
    validity = f"{rate:.0%} validity papers" if isinstance(rate, int | float) else ""
    parts = [_plural(d.get("samples", 0), "sample"), _plural(d.get("raters", 0), "rater"),
             f"{d.get('ratings_per_sample', '?')} ratings per sample", validity,
             f"calibration set of {d.get('calibration_size', 0)}"]
    return (f"Opened round “{d.get('name', '')}” on {n('version', d.get('rubric_version_id'))}: "
            + ", ".join(p for p in parts if p) + ".")


def _revised(d, n: Names) -> str:
    text = (f"Revised blind scores for sample {d.get('code', '')} in round "
            f"“{n('round', d.get('round_id'))}”: {_changes(d.get('changes'), n)}.")
    return text + (f" Reason: “{d['reason']}”." if d.get("reason") else "")


def _details_changed(d, n: Names, e: AuditEvent) -> str:
    before = d.get("before") if isinstance(d.get("before"), dict) else {}
    previous = "; ".join(f"{humanize(k)}: {v}" for k, v in before.items() if v)
    return (f"Changed the details of rubric “{n('rubric', e.object_id)}”."
            + (f" Before: {previous}." if previous else ""))


def _login_failed(d, n: Names, e: AuditEvent) -> str:
    digest = str(d.get("email_digest", ""))[:12]
    who = "A wrong password for this account" if e.actor_id else \
        "An address with no account, or a password typed as the address"
    return f"{who}." + (f" Address hash {digest}…" if digest else "")


SSO_REFUSALS = {
    "no_account": "the provider vouched for an address that has no account here",
    "deactivated": "the account is deactivated",
    "unverified": "the provider had not verified the email address",
    "domain": "the account is outside the district's allowed Google Workspace domains",
    "no_email": "the provider sent no email address",
}


def _sso_refused(d, n: Names, e: AuditEvent) -> str:
    reason = SSO_REFUSALS.get(str(d.get("reason", "")), "the provider's answer was refused")
    digest = str(d.get("email_digest", ""))[:12]
    return (f"A single sign-on was refused: {reason}."
            + (f" Address hash {digest}…" if digest else ""))


def _school_created(d, n: Names) -> str:
    context = d.get("context") if isinstance(d.get("context"), dict) else {}
    figures = "; ".join(f"{label}: {value}" for label, value in context.items())
    grades = f" for grades {d['grade_band']}" if d.get("grade_band") else ""
    return (f"Created school “{d.get('name', '')}”{grades}."
            + (f" Context: {figures}." if figures else ""))


def _school_changed(d, n: Names) -> str:
    changes = d.get("changes") if isinstance(d.get("changes"), dict) else {}
    parts = []
    for label, pair in changes.items():
        before, after = pair if isinstance(pair, list | tuple) and len(pair) == 2 else ("?", pair)
        parts.append(f"{label}: {before} → {after}")
    return f"Changed school “{d.get('name', '')}”: " + "; ".join(parts) + "."


def _roster_imported(d, n: Names) -> str:
    source = "a OneRoster export" if d.get("format") == "oneroster" else "the platform's CSV"
    parts = [_plural(d.get("new_schools", 0), "school") + " created",
             _plural(d.get("changed_schools", 0), "school") + " changed",
             _plural(d.get("new_people", 0), "person", "people") + " created",
             _plural(d.get("changed_people", 0), "person", "people") + " changed",
             _plural(d.get("deactivated", 0), "person", "people") + " deactivated"]
    return f"Imported a roster from {source}: " + ", ".join(parts) + "."


def _roster_person_created(d, n: Names) -> str:
    roles = d.get("roles") if isinstance(d.get("roles"), list) else []
    said = "; ".join(_role_at({**r, "district_id": None}, n) if r.get("school_id")
                     else (Role(r["role"]).label if r.get("role") in Role._value2member_map_
                           else "A role") + " (district-wide)"
                     for r in roles if isinstance(r, dict))
    return (f"Added {d.get('email', 'a person')} from the roster (id {d.get('source_id', '?')})"
            + (f": {said}." if said else "."))


def _setting_changed(d, n: Names) -> str:
    spec = SPECS.get(d.get("setting", ""))
    if spec is None:
        return f"Changed the district setting {d.get('setting', '?')}."
    return (f"Changed the district setting “{spec.label}” from {spec.text_of(d.get('before'))} "
            f"to {spec.text_of(d.get('after'))}.")


def _own_time_zone_changed(d, n: Names) -> str:
    before = d.get("before") or "their district's"
    if not d.get("after"):
        return f"Went back to their district's time zone (was {before})."
    return f"Chose {d['after']} as their own time zone (was {before})."


Describer = Callable[..., str]
SENTENCES: dict[str, Describer] = {
    "login": lambda d, n: "Logged in.",
    "login_sso": lambda d, n: "Logged in via single sign-on.",
    "password_login_refused": lambda d, n: (
        "Typed the right password, but every district of theirs signs in through single "
        "sign-on only; sent to single sign-on."),
    "logout": lambda d, n: "Logged out.",
    "password_changed": lambda d, n: "Changed their password; other devices were logged out.",
    "user_created": lambda d, n: f"Account created for {d.get('email', 'a new person')}.",
    "role_granted": lambda d, n: _role_at(d, n) + ".",
    "role_revoked": lambda d, n: f"Removed the role {_role_at(d, n)}.",
    "person_updated": _person_updated,
    "person_deactivated": lambda d, n: (
        "Deactivated the account: logged out, out of every pool"
        + (f"; {_plural(d['withdrawn_items'], 'unscored paper')} withdrawn from open rounds."
           if d.get("withdrawn_items") else ".")),
    "person_reactivated": lambda d, n: (
        "Reactivated the account"
        + (f"; {_plural(d['restored_items'], 'paper')} back in its queue."
           if d.get("restored_items") else ".")),
    "district_created": lambda d, n: (
        f"Created the district {d.get('name', '')}, reading times in {d.get('time_zone', 'UTC')}."),
    "invitation_sent": lambda d, n: (
        f"Emailed an invitation to choose a password; its link works for "
        f"{_plural(d.get('days', 7), 'day')}"
        + (f" and replaces {_plural(d['replaced'], 'earlier link')}." if d.get("replaced")
           else ".")),
    "invitation_accepted": lambda d, n: (
        "Chose a password with the invitation's link and logged in; other devices were "
        "logged out."),
    "password_reset_requested": lambda d, n: "Asked for a password reset link by email.",
    "password_reset": lambda d, n: (
        "Chose a new password with a reset link; other devices were logged out."),
    "sample_uploaded": lambda d, n: (
        f"Uploaded sample {d.get('code', '')} at {n('school', d.get('school_id'))}: "
        f"{str(d.get('content_type', 'file')).upper()}, "
        f"{_plural(d.get('pages') or 1, 'page')}, {_size(d.get('size'))}."),
    "sample_redaction_confirmed": lambda d, n: (
        f"Confirmed that sample {d.get('code', '')} shows no student's name."),
    "local_scores_recorded": lambda d, n: (
        f"Recorded local scores for sample {d.get('code', '')}: {_scores(d.get('scores'), n)}"
        + (f" ({_plural(d['revised'], 'revision')})." if d.get("revised") else ".")),
    "anchor_promoted": lambda d, n: (
        f"Promoted sample {d.get('code', '')} to an anchor paper on "
        f"{n('version', d.get('rubric_version_id'))}. Agreed scores: "
        f"{_scores(d.get('scores'), n)}."),
    "sample_archived": lambda d, n: (
        f"Archived sample {d.get('code', '')}; kept for its "
        f"{_plural(d.get('ratings', 0), 'rating')} and {_plural(d.get('anchors', 0), 'anchor')}."),
    "sample_deleted": lambda d, n: (
        f"Deleted sample {d.get('code', '')} and its {_plural(d.get('files', 0), 'file')}."),
    "sample_purged": lambda d, n: (
        f"Purged sample {d.get('code', '')} with {_plural(d.get('ratings', 0), 'rating')}, "
        f"{_plural(d.get('anchors', 0), 'anchor')} and {_plural(d.get('files', 0), 'file')}."),
    "scoring_round_opened": _round_opened,
    "ratings_imported": _ratings_imported,
    "rater_imported": lambda d, n: (
        f"Added {d.get('email', 'a rater')} as a teacher at {n('school', d.get('school_id'))}, "
        f"rater {d.get('key', '?')} of an imported past moderation; not yet invited."),
    "scoring_round_closed": lambda d, n: (
        f"Closed round “{d.get('name', '')}” with {d.get('done', 0)} of "
        f"{_plural(d.get('assigned', 0), 'paper')} scored."),
    "analysis_run_requested": lambda d, n: (
        f"Asked for the analysis of round “{d.get('name', '')}” "
        f"({_plural(d.get('n_ratings', 0), 'rating')})."),
    "blind_scores_submitted": lambda d, n: (
        f"Submitted blind scores for sample {d.get('code', '')} in round "
        f"“{n('round', d.get('round_id'))}”."),
    "blind_scores_revised": _revised,
    **{action: (lambda d, n, verb=verb: (
        f"{verb} “{d.get('title', '')}”"
        + (f", item {d['item']}" if d.get("item") else "")
        + (" (with nobody facilitating)" if d.get("automatic") else "") + "."))
       for action, (_, verb) in SESSION_EVENTS.items()},
    "practice_privacy_changed": lambda d, n: (
        "Coaches may now see the practice history of the teachers in their scope."
        if d.get("practice_visible_to_coaches")
        else "Coaches can no longer see teachers' practice history."),
    "district_time_zone_changed": lambda d, n: (
        f"Set the district's time zone to {d.get('after', '?')} (was {d.get('before', '?')})."),
    "own_time_zone_changed": _own_time_zone_changed,
    "school_created": _school_created,
    "school_changed": _school_changed,
    "school_archived": lambda d, n: (
        f"Archived school “{d.get('name', '')}”: no longer offered for uploads or new rounds; "
        "its history is kept."),
    "school_unarchived": lambda d, n: f"Made school “{d.get('name', '')}” active again.",
    "context_measure_added": lambda d, n: (
        f"Added the school context measure “{d.get('label', '')}” "
        f"({'a share' if d.get('unit') == 'share' else 'a count'})."),
    "district_setting_changed": _setting_changed,
    "roster_imported": _roster_imported,
    "roster_person_created": _roster_person_created,
    "roster_person_linked": lambda d, n: (
        f"Matched {d.get('email', 'an existing person')} by email to the roster's id "
        f"{d.get('source_id', '?')}."),
    "roster_school_linked": lambda d, n: (
        f"Matched school “{d.get('name', '')}” by name to the roster's id "
        f"{d.get('source_id', '?')}."),
    "rubric_created": lambda d, n: f"Created rubric “{d.get('title', '')}”.",
    "rubric_version_created": lambda d, n: (
        f"Created version {d.get('number', '?')} of “{n('rubric', d.get('rubric_id'))}”, "
        f"copied from version {d.get('copied_from', '?')}."),
    "rubric_version_frozen": lambda d, n: (
        f"Froze version {d.get('number', '?')} of “{n('rubric', d.get('rubric_id'))}”"
        + (f" ({d['reason']})." if d.get("reason") else ".")),
    "rubric_imported": lambda d, n: (
        f"Imported “{d.get('title', '')}” as version {d.get('number', '?')}."),
}
# These need the event itself (its object), not only its details.
EVENT_SENTENCES: dict[str, Describer] = {
    "rubric_details_changed": _details_changed,
    "login_failed": _login_failed,
    "sso_login_refused": _sso_refused,
    "password_reset_refused": lambda d, n, e: (
        ("A reset link for this account, which cannot use a password now (deactivated, or "
         "its districts sign in through single sign-on only); no email was sent."
         if e.actor_id else
         "A reset link for an address with no account; no email was sent.")
        + (f" Address hash {str(d['email_digest'])[:12]}…" if d.get("email_digest") else "")),
    "rubric_criterion_deleted": lambda d, n, e: (
        f"Deleted criterion “{d.get('name', '')}” from {n('version', e.object_id)}."),
    "rubric_level_deleted": lambda d, n, e: (
        f"Deleted level {d.get('score', '?')} “{d.get('label', '')}” of criterion "
        f"“{d.get('criterion', '')}” from {n('version', e.object_id)}."),
}


def _listed(details: dict) -> str:
    """Details of an action without a sentence, as "Key: value" pairs a person can read."""
    def value(v) -> str:
        if isinstance(v, dict):
            return ", ".join(f"{humanize(str(k))} {value(x)}" for k, x in v.items())
        if isinstance(v, list):
            return ", ".join(value(x) for x in v)
        return "yes" if v is True else "no" if v is False else str(v)

    return "; ".join(f"{humanize(str(k))}: {value(v)}" for k, v in details.items())


def sentence(e: AuditEvent, names: Names) -> str:
    details = e.details or {}
    try:
        if e.action in EVENT_SENTENCES:
            return EVENT_SENTENCES[e.action](details, names, e)
        if e.action in SENTENCES:
            return SENTENCES[e.action](details, names)
    except (KeyError, TypeError, ValueError):
        pass  # an older event shaped differently: its details as a list still say what happened
    return _listed(details)


def object_text(e: AuditEvent, names: Names) -> str:
    code = (e.details or {}).get("code")
    by_type = {
        "User": lambda: names("user", e.object_id),
        "WorkSample": lambda: f"Sample {code}" if code else "A work sample",
        "Anchor": lambda: f"Anchor paper {code}" if code else "An anchor paper",
        "QueueItem": lambda: f"Sample {code}" if code else "A blind scoring",
        "ScoringRound": lambda: f"Round “{names('round', e.object_id)}”",
        "Rubric": lambda: f"Rubric “{names('rubric', e.object_id)}”",
        "RubricVersion": lambda: names("version", e.object_id),
        "District": lambda: names("district", e.object_id),
    }
    if e.object_type in by_type:
        return by_type[e.object_type]()
    return object_label(e.object_type) if e.object_type else ""


def actor_text(e: AuditEvent, names: Names) -> str:
    if e.actor_id is not None:
        return names("user", e.actor_id)
    return "Unknown address" if e.action == "login_failed" else "The system"


@dataclass(frozen=True)
class EventRow:
    """One event as people read it (its time still UTC: the reader's zone formats it)."""

    occurred_at: datetime
    who: str
    action: str
    action_label: str
    object: str
    details: str
    districts: str


def rows(events: Iterable[AuditEvent]) -> list[EventRow]:
    events = list(events)
    names = Names(events)
    return [EventRow(timezones.as_utc(e.occurred_at), actor_text(e, names),
                     e.action, action_label(e.action), object_text(e, names),
                     sentence(e, names),
                     ", ".join(names("district", d) for d in e.district_ids))
            for e in events]


def filter_menus(scope: Scope) -> dict[str, list[tuple]]:
    """The (value, label) choices of the filter form: who and what occurs in `scope`."""
    facets = audit.facets(scope)
    users = _names_by_id(User.id, User.display_name, facets["actor_ids"])
    return {
        "actors": sorted(users.items(), key=lambda pair: pair[1].lower()),
        "actions": sorted(((a, action_label(a)) for a in facets["actions"]),
                          key=lambda pair: pair[1]),
        "object_types": sorted(((t, object_label(t)) for t in facets["object_types"]),
                               key=lambda pair: pair[1]),
    }


# --- CSV ---------------------------------------------------------------------------------------

def csv_header(zone: tzinfo) -> list[str]:
    # The zone named in the header too: a spreadsheet may drop the offset from the cells.
    return [f"When ({zone})", "Who", "Action", "Object", "Details", "Districts"]


def csv_cells(row: EventRow, zone: tzinfo) -> list[str]:
    """The row's cells, its time in ISO 8601 with the offset of `zone`."""
    return [escape_text(c) for c in (timezones.local_iso(row.occurred_at, zone), row.who,
                                          row.action_label, row.object, row.details,
                                          row.districts)]
