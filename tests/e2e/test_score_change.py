"""A teacher changes a submitted score: the form's own message asks for the reason (the browser
does not stop the submit with its tooltip), and the swaps log no CSP refusal even after the user
resized a comment box, which gives it a style attribute."""

from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in


def resize_by_dragging_its_corner(page: Page, selector: str) -> None:
    page.locator(selector).scroll_into_view_if_needed()
    box = page.locator(selector).bounding_box()
    corner = (box["x"] + box["width"] - 3, box["y"] + box["height"] - 3)
    page.mouse.move(*corner)
    page.mouse.down()
    page.mouse.move(corner[0], corner[1] + 60, steps=5)
    page.mouse.up()


def test_a_teacher_changes_a_submitted_score_with_a_reason(page: Page, demo):
    # Not the teacher the other queue tests score as: their queues stay as those tests expect.
    teacher = demo["schools"][1]["teachers"][0]
    log_in(page, teacher["email"], demo["passwords"]["teacher"])
    page.goto("/scoring/queue")
    item = page.locator("#queue-item")
    code = item.locator("#queue-item-title .code").inner_text()
    for criterion in item.locator("fieldset.criterion-choice").all():
        criterion.locator("label.level-option").first.click()
    item.get_by_role("button", name="Submit scores").click()
    expect(item.get_by_role("status")).to_have_text(f"Your scores for {code} are submitted.")

    page.locator("#queue-items").get_by_role("link", name=code).click()
    item.get_by_role("link", name="Change my scores").click()
    first_comment = "#queue-item fieldset.criterion-choice textarea >> nth=0"
    resize_by_dragging_its_corner(page, first_comment)
    assert page.locator(first_comment).get_attribute("style"), "the drag did not resize the box"
    item.locator("fieldset.criterion-choice").first.locator("label.level-option").nth(1).click()

    item.get_by_role("button", name="Save my changes").click()
    expect(item.locator(".errors")).to_contain_text("Say why you are changing a submitted score.")
    reason = item.get_by_label("Why are you changing your scores?")
    expect(reason).to_have_attribute("aria-invalid", "true")

    reason.fill("I read the rubric's second level again.")
    item.get_by_role("button", name="Save my changes").click()
    expect(item.get_by_role("status")).to_contain_text("1 score changed")
    # The autouse no_script_errors fixture fails the test on any CSP refusal logged meanwhile.
