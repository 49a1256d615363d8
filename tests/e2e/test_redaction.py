"""A teacher uploads work with the student's name on it, sees where the name check found it (or
that a scan could not be searched), and blacks the name out by drawing a box over the page
with the mouse, a finger or typed numbers; the stored page and the download lose the name."""

import io
import re

import pypdfium2 as pdfium
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from seed_data.pdfs import text_pdf
from tests.e2e.conftest import log_in
from tests.e2e.test_layout import overflow
from tests.fixtures.samples import scan_png_bytes

STUDENT = "Riley Testperson"
# Where the name's line sits, as fractions (left, top, right, bottom) of the page: text_pdf
# writes 20 pt text one inch from the left, 92 pt below the top of a Letter page, and
# scan_png_bytes writes 48 px letters 150 px in on a 1275 x 1650 page.
NAME_LINE = (0.10, 0.08, 0.80, 0.14)
SCAN_NAME = (0.10, 0.08, 0.45, 0.15)
STRAY = (0.30, 0.40, 0.70, 0.60)  # blank paper
DARK = 100


def upload(page: Page, demo, tmp_path, filename: str, data: bytes) -> str:
    """Log in as a demo teacher, upload `data` as the work of STUDENT; the sample's code."""
    teacher = demo["schools"][0]["teachers"][0]
    log_in(page, teacher["email"], demo["passwords"]["teacher"])
    work = tmp_path / filename
    work.write_bytes(data)
    page.goto("/samples/new")
    page.get_by_label("Rubric").select_option(label="Opinion Writing (version 1)")
    page.get_by_label("Task").fill("Opinion piece: should recess be longer?")
    page.get_by_label("Student name").fill(STUDENT)
    page.get_by_label("Student work").set_input_files(work)
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text(re.compile(r"Uploaded as WS-"))).to_be_visible()
    return page.locator("h1 .code").inner_text()


def stored_image(page: Page) -> Image.Image:
    """The page image the redaction page shows, fetched as the logged-in user."""
    response = page.request.get(page.locator(".redact-canvas img").get_attribute("src"))
    assert response.ok
    return Image.open(io.BytesIO(response.body())).convert("L")


def region(image: Image.Image, box: tuple[float, float, float, float]) -> Image.Image:
    left, top, right, bottom = box
    return image.crop((round(left * image.width), round(top * image.height),
                       round(right * image.width), round(bottom * image.height)))


def shows_ink(image: Image.Image, box) -> bool:
    """Some dark pixels (letters) and some light ones (paper) in the box."""
    low, high = region(image, box).getextrema()
    return low < DARK and high > 200


def blacked_out(image: Image.Image, box) -> bool:
    return region(image, box).getextrema() == (0, 0)


def wait_until_ready(page: Page) -> None:
    """The drawing script has run and the name check has loaded above the pages (until then a
    drag can miss the overlay, or the swap-in moves the page under the pointer), and the page
    image is scrolled into view."""
    expect(page.locator(".redact-overlay").first).to_be_visible()
    expect(page.locator("section#name-check")).to_be_visible()
    # Pointer events land only inside the viewport: bring the page's top edge to its top.
    page.locator(".redact-canvas img").first.evaluate("img => img.scrollIntoView()")


def page_point(page: Page, x: float, y: float) -> tuple[float, float]:
    """Viewport coordinates of the point at fractions (x, y) of the shown page image."""
    bounds = page.locator(".redact-canvas img").bounding_box()
    return bounds["x"] + x * bounds["width"], bounds["y"] + y * bounds["height"]


def drag_with_mouse(page: Page, box) -> None:
    wait_until_ready(page)
    page.mouse.move(*page_point(page, box[0], box[1]))
    page.mouse.down()
    page.mouse.move(*page_point(page, box[2], box[3]), steps=8)
    page.mouse.up()


def drag_with_finger(page: Page, box) -> None:
    """A one-finger drag, sent as real touch input (Playwright's touchscreen only taps)."""
    wait_until_ready(page)
    cdp = page.context.new_cdp_session(page)
    (x0, y0), (x1, y1) = page_point(page, box[0], box[1]), page_point(page, box[2], box[3])
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart",
                                          "touchPoints": [{"x": x0, "y": y0}]})
    for step in range(1, 9):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [
            {"x": x0 + (x1 - x0) * step / 8, "y": y0 + (y1 - y0) * step / 8}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def black_out(page: Page) -> None:
    page.get_by_role("button", name="Black out on page 1, for good").click()
    expect(page.get_by_text("Page 1: 1 box blacked out for good.")).to_be_visible()


def test_a_box_drawn_with_the_mouse_blacks_the_name_out_of_the_page_and_the_download(
        page: Page, demo, tmp_path):
    page.set_viewport_size({"width": 1280, "height": 900})
    upload(page, demo, tmp_path, "recess_essay.pdf", text_pdf(STUDENT))

    # The name check found the typed name in the PDF's text layer and highlights it.
    check = page.locator("#name-check")
    expect(check.get_by_text("Names were found in the work.")).to_be_visible()
    expect(check.locator("mark", has_text=re.compile(f"^{STUDENT}$"))).to_be_visible()
    check.get_by_role("link", name="Black out names").click()

    expect(page.get_by_role("heading", name="Page 1 of 1")).to_be_visible()
    before = stored_image(page)
    assert shows_ink(before, NAME_LINE)
    drag_with_mouse(page, STRAY)
    drag_with_mouse(page, NAME_LINE)
    expect(page.get_by_text("2 boxes ready to black out.")).to_be_visible()
    # A box drawn by mistake is taken back before anything is burned in.
    page.locator("[data-redact-boxes] li").first.get_by_role("button", name="Remove").click()
    expect(page.locator(".redact-overlay .redact-box")).to_have_count(1)
    expect(page.get_by_text("1 box ready to black out.")).to_be_visible()
    black_out(page)

    after = stored_image(page)
    assert after.size == before.size
    assert blacked_out(after, NAME_LINE)
    assert region(after, STRAY).getextrema()[0] > 200  # the removed box was not burned in

    # The download is rebuilt from the page images: the name is black there too, and no text
    # layer is left to select it from.
    with page.expect_download() as download:
        page.goto(page.url.removesuffix("/redact"))
        page.get_by_role("link", name=re.compile("Download the cleaned file")).click()
    pdf = pdfium.PdfDocument(download.value.path())
    assert len(pdf) == 1
    rendered = pdf[0].render(scale=before.width / pdf[0].get_width()).to_pil().convert("L")
    assert blacked_out(rendered, (0.11, 0.09, 0.79, 0.13))
    assert pdf[0].get_textpage().get_text_range().strip() == ""
    pdf.close()
    # ...so the name check now asks for the page to be checked by eye.
    expect(page.locator("#name-check")).to_contain_text(
        "Page 1 could not be searched: it has no text layer")


def test_a_scan_cannot_be_searched_and_a_typed_box_blacks_its_name_out_from_the_keyboard(
        page: Page, demo, tmp_path):
    page.set_viewport_size({"width": 1280, "height": 900})
    upload(page, demo, tmp_path, "recess_scan.png", scan_png_bytes(STUDENT))
    expect(page.locator("#name-check")).to_contain_text(
        "This image could not be searched: a scan or photo has no text to search. "
        "Check it by eye.")
    expect(page.locator("#name-check mark")).to_have_count(0)
    page.locator("#name-check").get_by_role("link", name="Black out names").click()
    assert shows_ink(stored_image(page), SCAN_NAME)

    # Left, top, width and height in % of the page, then the two buttons, all by keyboard.
    page.get_by_label("Left %").focus()
    for value in ("10", "8", "35", "7"):
        page.keyboard.type(value)
        page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Add this box")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Box: left 10 %, top 8 %, 35 % wide, 7 % high")).to_be_visible()
    expect(page.get_by_label("Left %")).to_have_value("")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Black out on page 1, for good")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Page 1: 1 box blacked out for good.")).to_be_visible()

    assert blacked_out(stored_image(page), SCAN_NAME)
    with page.expect_download() as download:
        page.goto(page.url.removesuffix("/redact"))
        page.get_by_role("link", name=re.compile("Download the cleaned file")).click()
    with Image.open(download.value.path()) as downloaded:
        assert blacked_out(downloaded.convert("L"), SCAN_NAME)


def test_on_a_phone_the_redaction_page_fits_and_a_finger_draws_the_box(
        browser: Browser, base_url, demo, tmp_path, script_errors):
    context = browser.new_context(base_url=base_url, viewport={"width": 360, "height": 740},
                                  has_touch=True, is_mobile=True)
    page = context.new_page()
    script_errors.watch(page)
    code = upload(page, demo, tmp_path, "recess_essay.pdf", text_pdf(STUDENT))
    page.goto(f"/samples/{code}/redact")
    expect(page.locator("#name-check mark").first).to_be_visible()
    assert overflow(page) <= 0

    page.locator(".redact-canvas").scroll_into_view_if_needed()
    drag_with_finger(page, NAME_LINE)
    expect(page.locator(".redact-overlay .redact-box")).to_have_count(1)
    assert overflow(page) <= 0  # the list of boxes fits too
    black_out(page)
    assert blacked_out(stored_image(page), NAME_LINE)
    assert overflow(page) <= 0
    context.close()


def test_a_page_is_not_blacked_out_while_another_page_holds_boxes_it_would_drop(
        page: Page, demo, tmp_path):
    page.set_viewport_size({"width": 1280, "height": 900})
    code = upload(page, demo, tmp_path, "two_pages.pdf", text_pdf(STUDENT, pages=2))
    page.goto(f"/samples/{code}/redact")
    second = page.locator("#redact-page-2")
    second.get_by_label("Left %").fill("10")
    second.get_by_label("Top %").fill("8")
    second.get_by_label("Width %").fill("70")
    second.get_by_label("Height %").fill("6")
    second.get_by_role("button", name="Add this box").click()
    expect(second.get_by_text("1 box ready to black out.")).to_be_visible()

    page.get_by_role("button", name="Black out on page 1, for good").click()
    expect(page.locator("#redact-page-1 [data-redact-count]")).to_contain_text(
        "Page 2 has boxes not yet blacked out.")
    expect(second.locator("[data-redact-boxes] li")).to_have_count(1)  # nothing was dropped

    second.get_by_role("button", name="Black out on page 2, for good").click()
    expect(page.get_by_text("Page 2: 1 box blacked out for good.")).to_be_visible()
