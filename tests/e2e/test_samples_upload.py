"""A teacher uploads a work sample, records their own score and confirms that no names are
visible while looking at the rendered page; a district coach promotes it to an anchor paper
with a rationale for every criterion, without ever seeing whose work it is."""

import json
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from seed_data.pdfs import text_pdf
from tests.e2e.conftest import log_in
from tests.e2e.test_roles_journey import log_out

ROOT = Path(__file__).resolve().parents[2]
STUDENT = "Riley Testperson"


def opinion_criteria() -> list[str]:
    rubric = json.loads((ROOT / "seed_data/rubrics/opinion_writing_4_5.json").read_text())
    return [c["name"] for c in rubric["criteria"]]


def test_teacher_uploads_scores_and_confirms_then_coach_promotes_an_anchor(
        page: Page, demo, tmp_path):
    teacher = demo["schools"][0]["teachers"][0]
    coach = next(c for c in demo["coaches"] if not c["school"])
    criteria = opinion_criteria()
    upload = tmp_path / "Riley_Testperson_recess_essay.pdf"
    upload.write_bytes(text_pdf("Recess should be longer because kids need to move.",
                                author=STUDENT))

    # The teacher uploads the work.
    log_in(page, teacher["email"], demo["passwords"]["teacher"])
    page.get_by_role("link", name="Work samples").click()
    page.get_by_role("link", name="Upload a work sample").click()
    page.get_by_label("Rubric").select_option(label="Opinion Writing (version 1)")
    page.get_by_label("Task").fill("Opinion piece: should recess be longer?")
    page.get_by_label("Student name").fill(STUDENT)
    page.get_by_label("Student work").set_input_files(upload)
    page.get_by_role("button", name="Upload").click()

    expect(page.get_by_text(re.compile(r"Uploaded as WS-[A-Z0-9]{4}-[A-Z0-9]{4}"))).to_be_visible()
    code = page.locator("h1 .code").inner_text()
    page_image = page.get_by_role("img", name=f"Page 1 of 1 of {code}")
    expect(page_image).to_be_visible()
    assert page_image.evaluate("img => img.complete && img.naturalWidth") == 1275
    expect(page.locator("#student-identity")).to_contain_text(STUDENT)

    # Their own score, per criterion, saved in place.
    for name, score in zip(criteria, ["3", "3", "2", "3"], strict=True):
        page.get_by_label(name, exact=True).select_option(score)
    page.get_by_role("button", name="Save my score").click()
    expect(page.get_by_text("Your local score is saved.")).to_be_visible()

    # The redaction check, made while the rendered page is on screen.
    expect(page.get_by_text("Draft: check for names")).to_be_visible()
    page.get_by_label(re.compile("no student, teacher or school name is visible")).check()
    page.get_by_role("button", name="Confirm: no names visible").click()
    expect(page.locator("#sample-status")).to_contain_text("Ready for scoring")
    log_out(page)

    # A district-wide coach promotes it, seeing the work but not the student.
    log_in(page, coach["email"], demo["passwords"]["coach"])
    page.get_by_role("link", name="Work samples").click()
    page.get_by_role("link", name=code).click()
    expect(page.get_by_role("img", name=f"Page 1 of 1 of {code}")).to_be_visible()
    expect(page.get_by_text(STUDENT)).to_have_count(0)
    page.get_by_role("link", name="Promote to anchor paper").click()
    for name in criteria:
        page.get_by_label(name, exact=True).select_option("3")
        page.get_by_label(f"Why “{name}” earns this score").fill(
            f"Meets the proficient descriptor for {name.lower()}.")
    page.get_by_role("button", name="Promote to anchor paper").click()

    expect(page.get_by_text(f"{code} is now an anchor paper")).to_be_visible()
    expect(page.locator("#anchor-scores")).to_contain_text(
        f"Meets the proficient descriptor for {criteria[0].lower()}.")
    page.get_by_role("link", name="Anchors").click()
    expect(page.get_by_role("link", name=code)).to_be_visible()
