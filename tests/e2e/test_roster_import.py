"""The district administrator imports a roster from the People page: upload, read the dry run,
apply, and finds an imported teacher, at desktop and phone width without sideways scrolling."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in, search_people
from tests.e2e.test_layout import overflow

SAMPLE = Path(__file__).parents[1] / "fixtures" / "roster" / "sample_roster.csv"
SHOTS = Path("/work/notes/shots/roster")


def roster_for(width: int, folder: Path) -> Path:
    """The sample roster with ids, emails and school names of this run's own."""
    text = SAMPLE.read_text()
    text = text.replace("SCH-", f"SCH{width}-").replace(",P-0", f",P{width}-0")
    text = re.sub(r"@(\w+)\.example", rf".{width}@\1.example", text)
    text = text.replace("Elementary", f"Elementary {width}").replace("Middle", f"Middle {width}")
    path = folder / f"roster-{width}.csv"
    path.write_text(text)
    return path


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


@pytest.mark.parametrize("width,height", [(1280, 900), (360, 740)])
def test_admin_uploads_a_roster_reads_the_dry_run_and_applies_it(page: Page, demo, width,
                                                                 height, tmp_path):
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, demo["district_admins"][0]["email"], demo["passwords"]["district_admin"])
    page.goto("/district")
    page.get_by_role("link", name="People", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("People of")
    page.wait_for_load_state("load")  # its stylesheet too: measured before, the table is wide
    assert overflow(page) <= 0
    _shot(page, f"people-{width}.png")
    page.get_by_role("link", name="Import a roster").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import a roster")
    assert overflow(page) <= 0
    _shot(page, f"upload-{width}.png")

    # A file with a bad line first: every problem named, nothing saved.
    bad = tmp_path / "bad.csv"
    bad.write_text("kind,source_id,name,email,role,school\nperson,X1,No Email,,teacher,S1\n"
                   "person,X2,Bad School,bad.school@example.org,teacher,NOPE\n")
    page.get_by_label("Roster file").set_input_files(str(bad))
    page.get_by_role("button", name="Check the roster").click()
    problems = page.locator("#roster-problems")
    expect(problems).to_contain_text("nothing was saved")
    expect(problems).to_contain_text("2 problems")
    expect(problems).to_contain_text("The email is missing.")
    expect(problems).to_contain_text("The school id NOPE is neither in the file")
    assert overflow(page) <= 0
    _shot(page, f"problems-{width}.png")

    page.get_by_label("Roster file").set_input_files(str(roster_for(width, tmp_path)))
    page.get_by_role("button", name="Check the roster").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Roster dry run")
    summary = page.locator("#roster-summary")
    expect(summary).to_contain_text("Schools to create2")
    expect(summary).to_contain_text("People to create10")
    expect(page.get_by_role("heading", name="People to create (10)")).to_be_visible()
    expect(page.get_by_role("cell", name=f"ana.lopez.{width}@harborview.example")).to_be_visible()
    assert overflow(page) <= 0
    _shot(page, f"dry-run-{width}.png")

    page.get_by_role("button", name="Apply the roster").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Roster applied")
    expect(page.locator(".flashes")).to_contain_text("Roster applied: 10 people added")
    assert overflow(page) <= 0
    _shot(page, f"applied-{width}.png")

    page.get_by_role("link", name="See the people").click()
    search_people(page, f"ana.lopez.{width}")
    results = page.locator("#people-results")
    expect(results).to_contain_text("1 person")
    results.get_by_role("link", name="Ana Lopez").click()
    expect(page.locator(".role-list")).to_contain_text(f"Teacher · Harbor View Elementary {width}")

    archive_imported_schools(page, width)


def archive_imported_schools(page: Page, tag: int) -> None:
    """The demo district is shared by the browser tests: the schools a roster brought in are
    archived again, so other tests' school menus stay the demo's."""
    page.goto("/district")
    page.get_by_role("link", name="Manage schools and their public context").click()
    for school in (f"Harbor View Elementary {tag}", f"Summit Ridge Middle {tag}"):
        page.get_by_role("button", name=f"Archive {school}").click()
        expect(page.get_by_role("button", name=f"Unarchive {school}")).to_be_visible()
