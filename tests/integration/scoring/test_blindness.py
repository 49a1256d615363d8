"""Blindness: nothing a rater can reach shows another rater's scores, the class teacher's score,
the sample's school, the student or the uploader; anchor papers look exactly like live work."""

import html
import re
from collections import deque
from urllib.parse import urlsplit

import pytest

from moderation.accounts import services as account_services
from moderation.accounts.models import District, Role, User
from moderation.core.extensions import db
from moderation.ratings.models import Rating, RatingKind
from moderation.samples import services as sample_services
from moderation.samples.models import WorkSample
from moderation.scoring import services
from moderation.scoring.assignment import ItemKind
from moderation.scoring.models import QueueItem
from tests.conftest import csrf_token_from
from tests.fixtures.analysis import analyse
from tests.fixtures.scoring import score_form

URL_ATTRIBUTES = re.compile(r'\b(?:href|src|hx-get|hx-post|action|formaction)="([^"]+)"')
POSTED = re.compile(r'\b(?:hx-post|formaction)="([^"]+)"|<form[^>]*method="post"[^>]*action='
                    r'"([^"]+)"')


@pytest.fixture
def blind_round(app, scoring_world, create_school, create_teacher, create_sample, open_round,
                scoring_db):
    """A round whose other schools' samples carry planted names, local scores and comments,
    and whose other raters have all submitted distinctive scores and comments."""
    world = scoring_world(n_schools=3, teachers_per_school=2, samples_per_school=0, anchors=8,
                          practice_anchors=2)
    rater = world.teachers[world.schools[0].id][1]
    secrets = {}
    for i, school in enumerate(world.schools[1:]):
        uploader = create_teacher(school=school, name=f"Uploader Quenby{i}")
        world.teachers[school.id].append(uploader)
        for j, kind in enumerate(("pdf", "png", "text")):
            student = f"Student Zebedee{i}{j}"
            sample = create_sample(school=school, rubric_version=world.version, kind=kind,
                                   uploader=uploader, ready=True, student_name=student)
            world.samples.append(sample)
            secrets[student] = "the student"
        secrets[uploader.display_name] = "the uploader"
        secrets[school.name] = "another school"
    criteria = scoring_db.criteria(world.version)
    with app.app_context():
        for k, sample in enumerate(world.samples):  # the class teachers' own scores
            sample_services.record_local_scores(
                db.session.get(WorkSample, sample.id), db.session.get(User, sample.uploaded_by_id),
                {c.id: 4 for c in criteria})
            db.session.execute(db.update(Rating).where(
                Rating.sample_id == sample.id, Rating.kind == RatingKind.LOCAL
            ).values(comment=f"Local verdict Xanthe{k}"))
            secrets[f"Local verdict Xanthe{k}"] = "the local score"
        db.session.commit()
    scoring_round = open_round(world, n=2, validity_rate=0.4, calibration_size=1, seed=3)
    with app.app_context():
        for item in db.session.execute(db.select(QueueItem).where(
                QueueItem.rater_id != rater.id)).scalars():
            comment = f"Other rater remark Yorick{item.id}"
            services.submit_item(item, db.session.get(User, item.rater_id),
                                 {c.id: 1 for c in criteria},
                                 {c.id: comment for c in criteria})
            secrets[comment] = "another rater's score"
            secrets[item.token] = "another rater's queue item"
        db.session.commit()
    for criterion in criteria:  # the anchors' rationales (the create_anchor factory)
        secrets[f"Shows {criterion.name} clearly."] = "an anchor's agreed rationale"
    return world, scoring_round, rater, secrets, criteria


def analysed_report_urls(app, world, scoring_round) -> list[str]:
    """Analyse the open round (a coach asks for it) so its report exists; its URLs."""
    analyse(app, scoring_round.id, world.coach.id)
    base = f"/reports/rounds/{scoring_round.id}"
    return [base, f"{base}/report.json", f"{base}/report.xlsx", f"{base}/charts/reliability.svg",
            f"{base}/charts/rater-severity.svg"]


def assert_reports_refused(client, report_urls: list[str], pages: dict[str, bytes]) -> None:
    """No report of the open round reaches the rater, nor a link to one."""
    for url in report_urls:
        assert client.get(url).status_code == 403, url
    assert not [url for url, body in pages.items() if b"Read the round&#39;s report" in body
                or b"Read the round's report" in body]


def crawl(client, token: str, starts: list[str]) -> dict[str, bytes]:
    """Every page, fragment, image and download reachable from `starts`: links, sources and
    htmx URLs, fetched plainly and as htmx; /scoring/ forms are also posted empty."""
    seen: dict[str, bytes] = {}
    queue = deque(starts)
    while queue:
        url = queue.popleft()
        if (url in seen or not url.startswith("/")
                or url.startswith(("/logout", "/login", "/static/"))):
            continue
        bodies = []
        for headers in ({}, {"HX-Request": "true", "HX-Target": "x"}):
            with client.get(url, headers=headers) as response:
                assert response.status_code < 500, url
                if response.status_code in (301, 302):
                    queue.append(urlsplit(response.headers["Location"]).path)
                bodies.append(response.get_data())
        seen[url] = b"\n".join(bodies)
        text = seen[url].decode("utf-8", "ignore")
        for found in URL_ATTRIBUTES.findall(text):
            queue.append(html.unescape(found).split("#")[0])
        for pair in POSTED.findall(text):
            target = html.unescape(pair[0] or pair[1])
            if target.startswith("/scoring/") and "POST " + target not in seen:
                response = client.post(target, data={"csrf_token": token},
                                       headers={"HX-Request": "true", "HX-Target": "x"})
                assert response.status_code < 500, target
                seen["POST " + target] = response.data
    return seen


def test_nothing_a_rater_can_reach_reveals_what_they_must_not_see(app, client, auth, hx,
                                                                  blind_round, scoring_db):
    world, scoring_round, rater, secrets, criteria = blind_round
    own_items = scoring_db.items(scoring_round.id, rater)
    assert {i.kind for i in own_items} >= {ItemKind.LIVE, ItemKind.VALIDITY}
    report_urls = analysed_report_urls(app, world, scoring_round)
    auth.login(rater)
    hx.post(f"/scoring/items/{own_items[0].token}/draft",
            score_form(criteria, [2], {0: "My own draft note"}))

    pages = crawl(client, csrf_token_from(client.get("/scoring/queue").text),
                  ["/teacher", "/scoring/queue", "/scoring/practice"]
                  + [f"/scoring/items/{i.token}" for i in own_items]
                  + [f"/samples/{i.sample.code}" for i in own_items] + report_urls)
    assert_reports_refused(client, report_urls, pages)
    assert any("/pages/1.png" in url for url in pages), "the crawl saw no rendered page"
    assert any(url.startswith("/scoring/items/") for url in pages)
    assert any(url.startswith("/scoring/practice/papers/") for url in pages)
    # The teacher's calibration profile, linked from their home, is crawled too.
    assert any(url.startswith("/reports/teachers/") for url in pages)
    leaks = [(url, what, secret) for url, body in pages.items()
             for secret, what in secrets.items()
             if secret.encode() in body or html.escape(secret).encode() in body]
    assert leaks == []
    # The rater does see their own draft, and nothing pre-fills the items they have not begun.
    assert b"My own draft note" in pages[f"/scoring/items/{own_items[0].token}"]
    for item in own_items[1:]:
        assert b"checked" not in pages[f"/scoring/items/{item.token}"]


def test_other_raters_queue_items_answer_404(client, auth, blind_round, scoring_db):
    world, scoring_round, rater, _, criteria = blind_round
    auth.login(rater)
    token = csrf_token_from(client.get("/scoring/queue").text)
    others = [i for i in scoring_db.items(scoring_round.id) if i.rater_id != rater.id]
    for item in others:
        assert client.get(f"/scoring/items/{item.token}").status_code == 404
        assert client.get(f"/scoring/items/{item.token}/revise").status_code == 404
        response = client.post(f"/scoring/items/{item.token}/submit",
                               data={**score_form(criteria, [4, 4]), "csrf_token": token})
        assert response.status_code == 404


def normalised(fragment: str, item) -> str:
    text = fragment.replace(item.sample.code, "CODE").replace(item.token, "TOKEN")
    text = text.replace(html.escape(item.sample.title), "TITLE")
    text = re.sub(r'(<pre class="sample-text">).*?(</pre>)', r"\1TEXT\2", text, flags=re.S)
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "CSRF", text)


def test_validity_papers_render_exactly_like_live_work(client, auth, hx, app, scoring_world,
                                                       open_round, scoring_db):
    world = scoring_world(n_schools=3, teachers_per_school=2, samples_per_school=2, anchors=3)
    scoring_round = open_round(world, n=2, validity_rate=0.4, calibration_size=1, seed=5)
    rater = next(t for t in world.all_teachers
                 if {i.kind for i in scoring_db.items(scoring_round.id, t)} == set(ItemKind))
    items = scoring_db.items(scoring_round.id, rater)
    live, validity, calibration = (next(i for i in items if i.kind == kind)
                                   for kind in (ItemKind.LIVE, ItemKind.VALIDITY,
                                                ItemKind.CALIBRATION))
    assert all(i.sample.code.startswith("WS-") for i in (live, validity, calibration))
    auth.login(rater)
    fragments = {kind: hx.get(f"/scoring/items/{item.token}", target="queue-item").text
                 for kind, item in (("live", live), ("validity", validity),
                                    ("calibration", calibration))}
    assert normalised(fragments["validity"], validity) == normalised(fragments["live"], live)
    assert normalised(fragments["calibration"], calibration) == normalised(fragments["live"],
                                                                          live)
    for fragment in fragments.values():
        assert not re.search(r"anchor|validity|calibration|agreed", fragment, re.I)
    # The same holds after submitting: the response is the next item, with no feedback.
    submitted = hx.post(f"/scoring/items/{validity.token}/submit",
                        score_form(scoring_db.criteria(world.version), [1, 4]),
                        target="queue-item")
    assert submitted.status_code == 200
    assert not re.search(r"anchor|validity|agreed|exact", submitted.text, re.I)
    queue_page = client.get("/scoring/queue").text
    assert not re.search(r"validity|calibration", queue_page, re.I)


def test_a_rater_who_also_coaches_sees_no_round_work_beside_a_school_or_a_score(
        app, client, auth, blind_round, scoring_db):
    """The dual-role crawl: the rater is made the district's coach while the round is open, so
    the coach's pages (rounds, work samples, anchors) are reachable too. Schools, uploaders and
    anchors' agreed scores are a coach's to see there, but never beside the round's work: no
    page that shows one of the round's sample codes (outside the rater's own school) also shows
    a school, an uploader or an agreed score, and students, local scores and other raters'
    scores show nowhere."""
    world, scoring_round, rater, secrets, criteria = blind_round
    with app.app_context():
        account_services.grant_role(db.session.get(User, rater.id), Role.COACH,
                                    db.session.get(District, world.district.id))
        db.session.commit()
    report_urls = analysed_report_urls(app, world, scoring_round)
    own_school = world.school_of(rater).id
    round_codes = {i.sample.code for i in scoring_db.items(scoring_round.id)
                   if i.sample.school_id != own_school}
    auth.login(rater)

    pages = crawl(client, csrf_token_from(client.get("/scoring/queue").text),
                  ["/", "/coach", "/teacher", "/scoring/queue", "/scoring/practice",
                   "/scoring/rounds", f"/scoring/rounds/{scoring_round.id}", "/samples",
                   "/samples/anchors"]
                  + [f"/scoring/items/{i.token}" for i in scoring_db.items(scoring_round.id,
                                                                           rater)]
                  + report_urls)
    assert_reports_refused(client, report_urls, pages)
    assert any(url.startswith("/scoring/rounds/") for url in pages)
    assert any(url.startswith("/samples/anchors/") for url in pages), "saw no anchor page"
    beside_work_only = ("another school", "the uploader", "an anchor's agreed rationale")
    leaks = []
    for url, body in pages.items():
        text = body.decode("utf-8", "ignore")
        shows_round_work = any(code in text for code in round_codes)
        for secret, what in secrets.items():
            if what in beside_work_only and not shows_round_work:
                continue
            if secret in text or html.escape(secret) in text:
                leaks.append((url, what, secret))
    assert leaks == []
