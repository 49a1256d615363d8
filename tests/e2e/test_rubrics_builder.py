"""A coach builds a rubric in the browser: criteria and levels added in place (htmx, no page
reload), an inline message for a missing name, a criterion moved up, and the JSON download."""

import json
import re
import uuid

from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in


def log_in_as_district_coach(page: Page, demo) -> None:
    coach = next(c for c in demo["coaches"] if c["school"] is None)
    log_in(page, coach["email"], demo["passwords"]["coach"])
    expect(page).to_have_url(re.compile(r"/coach$"))


def criterion_names(page: Page) -> list[str]:
    return [re.sub(r"^\d+\.\s*", "", text.strip())
            for text in page.locator("#criteria article.criterion h3").all_inner_texts()]


def add_criterion(page: Page, name: str) -> None:
    form = page.locator("#add-criterion")
    form.get_by_label("Criterion name").fill(name)
    form.get_by_role("button", name="Add criterion").click()
    expect(page.locator("#criteria h3", has_text=name)).to_be_visible()
    # The form comes back empty and focused, ready for the next criterion.
    expect(form.get_by_label("Criterion name")).to_have_value("")
    expect(form.get_by_label("Criterion name")).to_be_focused()


def test_a_coach_builds_a_rubric_and_downloads_it(page: Page, demo, tmp_path):
    title = f"Lab Notebook {uuid.uuid4().hex[:4]}"
    log_in_as_district_coach(page, demo)
    page.get_by_role("link", name="Rubrics").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rubrics")
    # The demo district's rubrics are there to start from.
    expect(page.get_by_role("link", name="Argumentative Writing")).to_be_visible()

    new = page.locator("#new-rubric")
    new.get_by_label("Title").fill(title)
    new.get_by_label("Subject").fill("Science")
    new.get_by_label("Grade band").fill("6-8")
    new.get_by_role("button", name="Create rubric").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_text("Add at least one criterion.")).to_be_visible()

    # From here on, everything happens in place: the page is never reloaded.
    page.evaluate("window.stillTheSamePage = true")

    add_form = page.locator("#add-criterion")
    add_form.get_by_role("button", name="Add criterion").click()
    expect(add_form.get_by_text("Give the criterion a name.")).to_be_visible()
    expect(add_form.get_by_label("Criterion name")).to_have_attribute("aria-invalid", "true")

    for name in ("Question", "Method", "Conclusion"):
        add_criterion(page, name)
    assert criterion_names(page) == ["Question", "Method", "Conclusion"]

    # Levels of the first criterion: the add form is open, with the next score and label filled.
    question = page.locator("#criteria article.criterion", has_text="Question")
    for score, label, descriptor in [
            ("1", "Beginning", "The question cannot be tested."),
            ("2", "Developing", "The question is testable but its variables are unclear."),
            ("3", "Proficient", "A testable question naming what changes and what is measured.")]:
        add_level = question.locator("details.add-level form")
        expect(add_level.get_by_label("Score")).to_have_value(score)
        expect(add_level.get_by_label("Label")).to_have_value(label)
        add_level.get_by_label("Descriptor").fill(descriptor)
        add_level.get_by_role("button", name="Add level").click()
        expect(question.locator("li.level", has_text=descriptor)).to_be_visible()
    # Score 3 was suggested as the proficiency level, as in the district's other rubrics.
    expect(question.locator("li.level.is-proficient")).to_contain_text("Proficient")
    expect(question.locator("li.level")).to_have_count(3)

    # Reorder: Conclusion moves up above Method.
    page.get_by_role("button", name="Move “Conclusion” up").click()
    expect(page.locator("#criteria article.criterion h3").nth(1)).to_contain_text("Conclusion")
    assert criterion_names(page) == ["Question", "Conclusion", "Method"]
    # The readiness checklist followed along (it refreshes itself on each change).
    expect(page.locator("#version-status")).to_contain_text(
        "“Conclusion” needs at least two performance levels.")

    assert page.evaluate("window.stillTheSamePage") is True

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download version 1 (JSON)").click()
    download = download_info.value
    assert download.suggested_filename == f"{title.lower().replace(' ', '-')}-v1.json"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    document = json.loads(path.read_text())
    assert document["title"] == title
    assert [c["name"] for c in document["criteria"]] == ["Question", "Conclusion", "Method"]
    assert [(lv["score"], lv["label"], lv["proficient"])
            for lv in document["criteria"][0]["levels"]] == [
        (1, "Beginning", False), (2, "Developing", False), (3, "Proficient", True)]


def test_a_teacher_reads_a_rubric_as_a_grid(page: Page, demo):
    teacher = demo["schools"][2]["teachers"][0]
    log_in(page, teacher["email"], demo["passwords"]["teacher"])

    page.get_by_role("link", name="Rubrics").click()
    page.get_by_role("link", name="Argumentative Writing").click()

    grid = page.locator("#rubric-grid table")
    expect(grid.get_by_role("columnheader", name="3 · Proficient")).to_be_visible()
    expect(grid.get_by_role("rowheader", name=re.compile("Claim and Focus"))).to_be_visible()
    expect(page.get_by_role("button", name="Add criterion")).to_have_count(0)
