"""The practice list: which papers the teacher has practised, names that stay put, and why
papers are missing while a round runs."""

import re
from datetime import UTC, datetime

from tests.integration.practice.test_practice import paper_ids, practise


def section(html: str, section_id: str) -> str:
    found = re.search(rf'<section id="{section_id}".*?</section>', html, re.S)
    return found.group(0) if found else ""


def row_of(html: str, anchor_id: int) -> str:
    return next(row for row in re.findall(r"<tr>.*?</tr>", html, re.S)
                if f"/scoring/practice/papers/{anchor_id}\"" in row)


def test_practised_papers_say_how_often_when_and_how_the_last_attempt_went(
        client, auth, hx, practice_world):
    world, teacher, criteria = practice_world
    first, second, third = world.practice_anchors
    auth.login(teacher)
    practise(hx, first.id, criteria, [1, 1], nonce="a" * 32)  # agreed: 3 for every criterion
    practise(hx, first.id, criteria, [3, 2], nonce="b" * 32)

    listing = client.get("/scoring/practice").text
    waiting, done = section(listing, "papers-to-practise"), section(listing, "papers-practised")
    assert listing.index('id="papers-to-practise"') < listing.index('id="papers-practised"')
    assert paper_ids(waiting) == [second.id, third.id]
    assert paper_ids(done) == [first.id]
    today = datetime.now(UTC)  # the district's zone, as it was made
    row = row_of(done, first.id)
    assert f"Practised 2 times, last {today.day} {today:%b %Y}" in re.sub(r"<[^>]+>", "", row)
    # The latest attempt, described rather than graded.
    assert "1 of 2 matched the agreed scores; all within one level." in row
    assert "Practise again" in row

    practise(hx, second.id, criteria, [3, 3], nonce="c" * 32)
    row = row_of(section(client.get("/scoring/practice").text, "papers-practised"), second.id)
    assert "Practised once" in row and "All 2 criteria matched the agreed scores." in row
    practise(hx, third.id, criteria, [1, 1], nonce="d" * 32)
    row = row_of(section(client.get("/scoring/practice").text, "papers-practised"), third.id)
    assert "None matched exactly; its feedback shows where the agreed scores sit." in row


def test_every_paper_practised_says_so_instead_of_an_empty_list(
        client, auth, hx, practice_world):
    world, teacher, criteria = practice_world
    auth.login(teacher)
    for n, anchor in enumerate(world.practice_anchors):
        practise(hx, anchor.id, criteria, [2, 2], nonce=f"{n}" * 32)
    waiting = section(client.get("/scoring/practice").text, "papers-to-practise")
    assert paper_ids(waiting) == []
    assert "You have practised on every paper offered here." in waiting


def test_a_paper_keeps_its_name_when_another_leaves_the_list(
        client, auth, hx, practice_world):
    world, teacher, criteria = practice_world
    first, second, third = world.practice_anchors
    auth.login(teacher)
    before = client.get("/scoring/practice").text
    names = {a.id: re.search(r'<td class="paper-name">(Practice paper [^<]+)</td>',
                             row_of(before, a.id)).group(1)
             for a in world.practice_anchors}
    assert len(set(names.values())) == 3
    assert not any("WS-" in name for name in names.values())  # never the sample's code
    auth.logout()

    auth.login(world.coach)  # the first paper leaves practice
    hx.post(f"/samples/anchors/{first.id}/pool", {"pool": "calibration"}, target="anchor-pool")
    auth.logout()
    auth.login(teacher)
    after = client.get("/scoring/practice").text
    assert paper_ids(after) == [second.id, third.id]
    for anchor in (second, third):
        assert names[anchor.id] in row_of(after, anchor.id)

    page = client.get(f"/scoring/practice/papers/{third.id}").text
    assert f"<h1>{names[third.id]}</h1>" in page
    practise(hx, third.id, criteria, [3, 3])
    history = section(client.get("/scoring/practice").text, "practice-history")
    assert names[third.id] in history


def test_the_list_says_how_many_papers_a_running_round_sets_aside(
        client, auth, hx, practice_world, open_round, scoring_db):
    world, teacher, criteria = practice_world
    scoring_round = open_round(world, n=2, validity_rate=0.3, calibration_size=1)
    used = {i.anchor_id for i in scoring_db.items(scoring_round.id) if i.anchor_id}
    moved = next(a for a in world.anchors if a.id in used)
    auth.login(teacher)
    assert "set aside" not in client.get("/scoring/practice").text
    auth.logout()
    auth.login(world.coach)
    hx.post(f"/samples/anchors/{moved.id}/pool", {"pool": "practice"}, target="anchor-pool")
    auth.logout()

    auth.login(teacher)
    listing = client.get("/scoring/practice").text
    assert (f"1 paper is set aside while the round “{scoring_round.name}” is open; it comes "
            f"back when it closes.") in listing
    assert moved.id not in paper_ids(listing)  # how many, never which
    assert f"P{moved.id}<" not in listing
    auth.logout()

    auth.login(world.coach)
    hx.post(f"/scoring/rounds/{scoring_round.id}/close", {"confirmed": "y"})
    auth.logout()
    auth.login(teacher)
    listing = client.get("/scoring/practice").text
    assert "set aside" not in listing and moved.id in paper_ids(listing)
