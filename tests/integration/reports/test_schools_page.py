"""The schools page of a round: every school's standard against the evidence (a funnel, no
league table), its local-versus-blind gap and the equity analysis, for who sees every school."""

import html
import re

from tests.fixtures.analysis import close, record_low_income_shares


def test_district_readers_see_the_schools_in_a_funnel_without_ranks(app, client, auth,
                                                                      reported_round):
    world = reported_round.world
    for reader in (world.admin, world.coach):
        auth.login(reader)
        page = client.get(f"/reports/rounds/{reported_round.round_id}/schools")
        assert page.status_code == 200
        text = page.text
        assert re.search(r"As of <strong>\d+ ratings</strong>", text)
        assert "School standards" in text and "Equity" in text
        shown = [school.name for school in world.schools if school.name in text]
        # A funnel of every measured school, or the count of those too thin to show.
        assert shown or "counted, not shown" in text
        assert not re.search(r"\b(rank|1st|2nd|3rd)\b", text, re.IGNORECASE)
        assert not re.search(r"Rater \d+", text)
        report = client.get(f"/reports/rounds/{reported_round.round_id}").text
        assert "School standards and equity" in report
        auth.logout()


def test_a_school_coach_is_sent_to_their_own_schools_findings(app, client, auth, create_coach,
                                                               reported_round):
    coach = create_coach(school=reported_round.world.schools[0], name="School Coach")
    auth.login(coach)
    refused = client.get(f"/reports/rounds/{reported_round.round_id}/schools")
    assert refused.status_code == 403
    assert "your own schools' findings are in the round's report" in html.unescape(refused.text)
    report = client.get(f"/reports/rounds/{reported_round.round_id}").text
    assert "School standards and equity" not in report


def test_the_equity_view_of_too_few_schools_says_so_in_words(app, client, auth, scored_round):
    app.config["ANALYSIS_BOOTSTRAP"] = 50
    scored = scored_round()
    record_low_income_shares(app, scored.world, [0.2, 0.5, 0.8])
    close(app, scored)
    app.extensions["jobs"].drain()
    auth.login(scored.world.admin)
    text = client.get(f"/reports/rounds/{scored.round_id}/schools").text
    # The district's words for the context, not the engine's column name.
    assert "low_income_share" not in text
    # (Its three schools are below the suppression rule, so none has a figure to relate.)
    assert ("0 schools have figures for both leniency and low-income share: too few to relate "
            "them (at least 5 are needed).") in text
