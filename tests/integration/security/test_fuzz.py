"""Bad input never makes a 5xx: Hypothesis sends generated values (NUL, huge and negative
numbers, huge strings, odd Unicode, missing and duplicated fields, junk files) to every form,
htmx and page endpoint of a real world, as real users with valid CSRF tokens most of the time,
so the requests reach the views rather than stopping at the 400 of a missing token.

`make test` runs FUZZ_EXAMPLES (default 150) requests; FUZZ_EXAMPLES=2000 runs more.
"""

import io
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.routing import IntegerConverter
from werkzeug.test import encode_multipart

from app import create_app
from moderation.settings.models import SETTINGS
from tests.fixtures.world import ANONYMOUS, USERS
from tests.integration.security.declarations import DECLARATIONS

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
INT_COLUMN_MAX = 2**31 - 1

# Endpoints whose forms are fuzzed: their field names (criterion ids filled in from the world).
DETAILS = ["title", "subject", "grade_band", "description"]
CRITERION = ["name", "description", "student_friendly", "standard_codes"]
LEVEL = ["score", "label", "descriptor", "student_friendly", "is_proficient"]
# The New round form's sample list: its filters, page and selection (GET alone, or with the form).
ROUND_SAMPLES = ["school_id", "grade_band", "uploaded_from", "uploaded_to", "history", "page",
                 "selection", "action", "sample_ids", "page_sample_ids", "excluded_sample_ids"]
ROUND = ["district_id", "name", "rubric_version_id", "rater_school_ids", "rater_ids",
         "ratings_per_sample", "validity_percent", "calibration_size", "due_date", "seed",
         *ROUND_SAMPLES]
# A school and the figures of the world district's two context measures.
SCHOOL = ["name", "grade_band", *(f"context-{i}-{name}" for i in (0, 1)
                                  for name in ("measure_id", "value", "year", "source"))]
QUERY_FIELDS = {"accounts.login": ["next"], "accounts.sso_start": ["next"],
                "accounts.sso_callback": ["code", "state", "error", "error_description"],
                "samples.list_samples": ["status"],
                "people.list_people": ["q", "school", "role", "page"],
                "scoring.new_round": ["district_id", "rubric_version_id"],
                "scoring.round_samples": ["district_id", "rubric_version_id", *ROUND_SAMPLES]}
FILE_FIELDS = {"samples.upload_sample": "file", "samples.upload_class_set": "files",
               "rubrics.import_rubric": "import-file", "roster.upload": "files"}
# Logging out, or deactivating someone, would end a session the other requests share; the
# access matrix and the people tests cover them.
NOT_FUZZED = {"accounts.logout", "people.deactivate_person"}


def prefixed(prefix: str, names: list[str]) -> list[str]:
    return [f"{prefix}-{name}" for name in names]


def form_fields(world) -> dict[str, list[str]]:
    criteria = world.ids["scored_criteria"]
    scores = [f"score_{c}" for c in criteria]
    comments = [f"comment_{c}" for c in criteria]
    criterion, level = world.ids["draft_criterion"], world.ids["draft_level"]
    return {
        "accounts.login": ["email", "password"],
        "accounts.change_password": ["current_password", "new_password", "confirm_password"],
        "accounts.own_time_zone": ["time_zone"],
        "accounts.forgot_password": ["email"],
        "accounts.set_password": ["new_password", "confirm_password"],
        "schools.new_school": SCHOOL,
        "schools.edit_school": SCHOOL,
        "schools.add_measure": ["label", "unit", "description"],
        "schools.archive_school": [],
        "schools.unarchive_school": [],
        "people.new_person": ["display_name", "email", "role", "school"],
        "people.edit_person": ["display_name", "email"],
        "people.add_role": ["role", "school"],
        "people.remove_role": [],
        "people.reactivate_person": [],
        "people.invite_person": [],
        "roster.upload": [],
        "roster.apply_import": ["plan"],
        "settings.district_settings": ["time_zone", *(spec.key for spec in SETTINGS)],
        "rubrics.create_rubric": prefixed("new", [*DETAILS, "district_id"]),
        "rubrics.import_rubric": prefixed("import", ["district_id", "as_new_version"]),
        "rubrics.create_version": ["next-change_note"],
        "rubrics.update_details": prefixed("details", DETAILS),
        "rubrics.add_criterion": prefixed("new-criterion", CRITERION),
        "rubrics.update_criterion": prefixed(f"criterion-{criterion}", CRITERION),
        "rubrics.move_criterion": ["direction"],
        "rubrics.delete_criterion": [],
        "rubrics.add_level": prefixed(f"new-level-{criterion}", LEVEL),
        "rubrics.update_level": prefixed(f"level-{level}", LEVEL),
        "rubrics.move_level": ["direction"],
        "rubrics.mark_proficient": [],
        "rubrics.delete_level": [],
        "samples.upload_sample": ["school_id", "rubric_version_id", "title", "student_name",
                                  "student_local_id"],
        "samples.record_local_score": scores,
        "samples.confirm_redaction": ["confirmed"],
        "samples.upload_class_set": ["school_id", "rubric_version_id", "title"],
        "samples.set_student": prefixed(world.ids["pdf_sample"],
                                        ["student_name", "student_local_id"]),
        "samples.redact_page": prefixed("p1", ["left", "top", "width", "height", "box"]),
        "samples.promote_anchor": scores + [f"rationale_{c}" for c in criteria] + ["pool"],
        "samples.move_anchor": ["pool"],
        "samples.delete_sample": [],
        "samples.purge_sample": ["purge-confirmed"],
        "scoring.save_draft": scores + comments,
        "scoring.submit_item": scores + comments,
        "scoring.revise_item": [*scores, *comments, "reason"],
        "practice.practise": [*scores, *comments, "nonce"],
        "scoring.new_round": ROUND,
        "scoring.preview_round": ROUND,
        "scoring.close_round": ["confirmed"],
        "analysis.run_round": [],
        "sessions.join_session": ["code"],
        "sessions.new_session": ["title", "rubric_version_id", "scope", "school_id",
                                 "sample_ids", "co_facilitator_id", "timer_minutes",
                                 "is_names_at_reveal", "allows_auto_agree"],
        "sessions.submit_scores": scores + comments,
        "sessions.change_state": ["step"],
        "sessions.change_agenda": ["action"],
        "sessions.record_consensus": ["criterion_id", "level", "method", "rationale",
                                      "evidence"],
        "sessions.note_dissent": ["text"],
    }


def _rules():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint not in NOT_FUZZED),
                  key=lambda r: (r.endpoint, r.rule))


RULES = _rules()


# --- values ------------------------------------------------------------------------------------

NUMBERS = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([0, -1, INT_COLUMN_MAX, INT_COLUMN_MAX + 1, 2**63, -(2**63) - 1, 10**100]),
).map(str)
SPECIAL = st.sampled_from([
    "", " ", "\x00", "a\x00b", "null", "None", "true", "false", "y", "on", "NaN", "inf", "-0",
    "1e309", "0x10", "1.5", "٣", "<script>alert(1)</script>", "' OR 1=1 --", "%00", "\r\n",
    "../../etc/passwd", "\u202e", "\ufeff", "😀" * 30, "up", "down", "draft", "ready",
])
HUGE = st.builds(lambda char, n: char * n, st.sampled_from(["x", "é", "😀", "\x00", "9"]),
                 st.sampled_from([300, 5_000, 70_000, 400_000]))
TEXT = st.text(max_size=60)


def values(real: list[str]):
    """A form value: junk of every kind, or a real value of the world (ids, levels), so that
    some requests pass validation and go further into the view."""
    return st.one_of(NUMBERS, SPECIAL, TEXT, HUGE, st.sampled_from(real))


def fields(names: list[str], real: list[str]):
    """(name, value) pairs: each field missing, once or duplicated, and sometimes an unknown
    field besides."""
    one_field = st.tuples(st.integers(0, 3), st.lists(values(real), min_size=3, max_size=3))
    extra = st.lists(st.tuples(st.sampled_from(["x", "csrf_token", "__proto__", "score_"]),
                               values(real)), max_size=1)
    return st.builds(lambda plan, more: [
        (name, value) for name, (times, drawn) in zip(names, plan, strict=True)
        for value in drawn[:times]] + more,
        st.tuples(*[one_field for _ in names]), extra)


def _json_leaf_values():
    leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.sampled_from([10**400]),
                       st.floats(allow_nan=False), st.text(max_size=40), HUGE,
                       st.sampled_from(["\ud800", "a\udfffb", "\x00"]))
    return st.recursive(leaves, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(st.text(max_size=10), inner, max_size=3), max_leaves=6)


def rubric_files(document: dict):
    """The world's real rubric export with one value replaced, or not JSON at all."""
    paths = list(_leaf_paths(document))

    def replaced(path, value) -> bytes:
        copy = json.loads(json.dumps(document))
        target = copy
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return json.dumps(copy).encode()

    return st.one_of(st.builds(replaced, st.sampled_from(paths), _json_leaf_values()),
                     st.binary(max_size=300),
                     st.just(b""), st.just(b"[]"), st.just(b'{"format": "calibrate-rubric"}'))


def _leaf_paths(node, path=()):
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        if isinstance(value, dict | list) and value:
            yield from _leaf_paths(value, (*path, key))
        yield (*path, key)


SAMPLE_FILES = st.one_of(
    st.binary(max_size=400), st.just(b"%PDF-1.7\n%broken"), st.just(b"\x89PNG\r\n\x1a\njunk"),
    st.just(b"\xff\xd8\xff\xe0junk"), st.text(max_size=200).map(lambda t: t.encode("utf-8")),
    st.just(b"GIF89a"), st.just(b"\x00" * 1000))
# Roster uploads: the own format's header with generated rows, OneRoster's names, zips.
ROSTER_HEADER = "kind,source_id,name,email,role,school,grades,status\n"
ROSTER_FILES = st.one_of(
    SAMPLE_FILES,
    st.lists(st.lists(st.one_of(TEXT, st.sampled_from(["school", "person", "teacher", "S1",
                                                        "a@b.example", ""])),
                      max_size=9), max_size=5).map(
        lambda rows: (ROSTER_HEADER + "\n".join(",".join(r) for r in rows)).encode()),
    st.just(b"PK\x03\x04junk"), st.just(b"\xef\xbb\xbf" + ROSTER_HEADER.encode()))
FILE_NAMES = st.one_of(st.sampled_from(["essay.pdf", "essay.txt", "scan.png", "", ".", "a" * 300,
                                        "../x.pdf", "rubric.json", "roster.csv",
                                        "users.csv", "export.zip"]), TEXT)


def url_arguments(rule):
    """For each URL argument, None (the world's real object) or a value it does not have."""
    def bad(name: str):
        if isinstance(rule._converters[name], IntegerConverter):
            return st.one_of(st.integers(0, INT_COLUMN_MAX), st.integers(INT_COLUMN_MAX + 1),
                             st.sampled_from([INT_COLUMN_MAX + 1, 2**63, 10**40]))
        return st.one_of(SPECIAL, TEXT, HUGE.filter(lambda t: len(t) < 10_000)).filter(bool)

    return st.fixed_dictionaries({name: st.one_of(st.none(), st.none(), bad(name))
                                  for name in rule.arguments})


# --- one request -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    rule: object
    method: str
    role: str
    csrf: str  # "valid", "missing" or "forged"
    arguments: dict
    form: list
    query: list
    file: tuple | None
    form_token: bool  # the token in the form body rather than the X-CSRFToken header

    def __repr__(self) -> str:
        form = [(name, value[:80]) for name, value in self.form]
        return (f"Case({self.method} {self.rule.rule} as {self.role}, csrf {self.csrf}, "
                f"arguments {self.arguments!r:.200}, form {form!r:.600}, query "
                f"{self.query!r:.200}, file {self.file and (self.file[0], self.file[1][:80])})")


def roles(endpoint: str):
    """Mostly someone the endpoint lets in, so the values reach the view; anyone otherwise."""
    allowed = sorted(DECLARATIONS[endpoint].allowed)
    anyone = st.sampled_from([*USERS, ANONYMOUS])
    return st.one_of(st.sampled_from(allowed), st.sampled_from(allowed), anyone)


def cases(world, document: dict):
    real = sorted({str(v) for v in world.ids.values() if isinstance(v, int | str)}
                  | {str(v) for v in world.users.values()}
                  | {"1", "2", "3", "4", "y", "down", "up", "correct-horse-battery"}
                  | {world.emails[u] for u in USERS})
    names = form_fields(world)

    @st.composite
    def case(draw):
        rule = draw(st.sampled_from(RULES))
        method = draw(st.sampled_from(sorted(rule.methods - {"HEAD", "OPTIONS"})))
        post = method == "POST"
        file_field = FILE_FIELDS.get(rule.endpoint) if post else None
        file = None
        if file_field:
            content = draw(rubric_files(document) if file_field == "import-file"
                           else ROSTER_FILES if file_field == "files" and
                           rule.endpoint == "roster.upload" else SAMPLE_FILES)
            file = (file_field, content, draw(FILE_NAMES))
        return Case(
            rule=rule, method=method,
            role=draw(roles(rule.endpoint)),
            csrf=draw(st.sampled_from(["valid"] * 4 + ["missing", "forged"])),
            arguments=draw(url_arguments(rule)),
            form=draw(fields(names.get(rule.endpoint, []), real)) if post else [],
            query=draw(fields(QUERY_FIELDS.get(rule.endpoint, ["q"]), real)),
            file=file, form_token=draw(st.booleans()))

    return case()


def send(world, case: Case):
    url = world.url_for(case.rule, overrides={k: v for k, v in case.arguments.items()
                                              if v is not None})
    client = world.client(case.role)
    if case.query:
        url += "?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}"
                              for k, v in case.query)
    headers = {"HX-Request": "true", "HX-Target": "main"}
    # The token goes as htmx sends it (the header) on every request, and in the form too.
    token = {"valid": world.csrf_token(case.role), "forged": "IjAwMDAi.forged.token"}.get(
        case.csrf)
    if token:
        headers["X-CSRFToken"] = token
    if case.method == "GET":
        return client.get(url, headers=headers)
    data = list(case.form)
    if token and case.form_token:
        data.append(("csrf_token", token))
        del headers["X-CSRFToken"]
    if case.file:
        name, content, filename = case.file
        data.append((name, FileStorage(io.BytesIO(content), filename=filename)))
    # Encoded here in memory: the test client spools a body over 500 kB to a temporary file
    # that it never closes.
    boundary = "fuzz-boundary-7d1a"
    return client.post(url, data=encode_multipart(MultiDict(data), boundary)[1],
                       headers=headers, content_type=f"multipart/form-data; boundary={boundary}")


@dataclass
class Tally:
    sent: int = 0
    valid_csrf: int = 0
    statuses: Counter = field(default_factory=Counter)
    errors: list = field(default_factory=list)

    def summary(self) -> str:
        share = self.valid_csrf / self.sent if self.sent else 0
        return (f"fuzz: {self.sent} requests, {share:.0%} with a valid CSRF token, statuses "
                f"{dict(sorted(self.statuses.items()))}, {len(self.errors)} 5xx")


def _export(world) -> dict:
    from moderation.core.extensions import db
    from rubrics import jsonformat
    from rubrics.models import RubricVersion

    with world.app.app_context():
        return jsonformat.to_document(db.session.get(RubricVersion, world.ids["scored_version"]))


@pytest.mark.slow
def test_no_generated_input_makes_a_server_error(access_world):
    tally = Tally()

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(case=cases(access_world, _export(access_world)))
    def run(case):
        tally.sent += 1
        tally.valid_csrf += case.csrf == "valid"
        try:
            response = send(access_world, case)
        except Exception as error:  # the testing app propagates what would be a 500
            tally.errors.append((case, repr(error)))
            raise
        response.close()
        tally.statuses[response.status_code] += 1
        if response.status_code >= 500:
            tally.errors.append((case, response.status_code))
        assert response.status_code < 500, case

    try:
        run()
    finally:
        print(tally.summary(), file=sys.stderr)
    assert tally.valid_csrf >= tally.sent / 2, tally.summary()
    assert tally.statuses[400] < tally.sent / 2, "most requests stopped before the view"


def test_every_post_endpoint_has_its_fields_declared(access_world):
    posted = {r.endpoint for r in RULES if "POST" in r.methods}
    missing = posted - set(form_fields(access_world))
    assert not missing, (f"Declare the form fields of {sorted(missing)} in form_fields() of "
                         f"{__file__}, so the fuzzer sends them bad values.")
