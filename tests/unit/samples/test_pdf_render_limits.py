"""PDF pages render in a child process with a memory limit and a timeout, side by side."""

import io
import threading
import time

import pypdfium2 as pdfium
import pytest
from PIL import Image

from moderation.samples import processing
from seed_data.pdfs import blank_pdf, slow_pdf, text_pdf

# 612 x 3,600 points renders to 1,275 x 7,501 pixels: inside the 10-megapixel page budget, but
# its bitmap and the copies Pillow makes of it need about 90 MB.
TALL_PAGE = (612, 3600)
SMALL_MEMORY = 64 * 2**20
# About 1-3 s to render, more on a busy machine.
SLOW_STROKES = 10_000


def test_a_normal_pdf_renders_to_the_pages_pdfium_draws():
    data = text_pdf(pages=3)
    pages = processing.render_pdf_pages(data)

    document = pdfium.PdfDocument(data)
    assert [page.number for page in pages] == [1, 2, 3]
    for page, expected in zip(pages, document, strict=True):
        drawn = expected.render(scale=processing.PAGE_RENDER_WIDTH / expected.get_width())
        drawn = drawn.to_pil().convert("RGB")
        shown = Image.open(io.BytesIO(page.png))
        assert shown.format == "PNG"
        assert (page.width, page.height) == shown.size == drawn.size == (1275, 1651)
        assert shown.convert("RGB").tobytes() == drawn.tobytes()


def test_a_page_that_needs_more_memory_than_allowed_is_refused():
    tall = blank_pdf(*TALL_PAGE)
    with pytest.raises(processing.SampleFileError) as error:
        processing.render_pdf_pages(tall, memory_limit=SMALL_MEMORY)
    assert str(error.value).startswith(
        "This PDF needs more memory to display than the server allows (64 MB).")
    # The limit stops the render, not the worker: a letter page fits in it, the tall page in
    # the default limit.
    assert len(processing.render_pdf_pages(blank_pdf(), memory_limit=SMALL_MEMORY)) == 1
    assert processing.render_pdf_pages(tall)[0].height == 7501


def test_a_render_that_takes_too_long_is_stopped_and_refused():
    with pytest.raises(processing.SampleFileError) as error:
        processing.render_pdf_pages(slow_pdf(SLOW_STROKES), timeout=0.5)
    assert str(error.value).startswith(
        "This PDF needs more time to display than the server allows (0.5 seconds).")


def test_a_damaged_pdf_is_refused_by_the_worker():
    with pytest.raises(processing.SampleFileError, match="could not be displayed; it may be "
                                                         "damaged"):
        processing.render_pdf_pages(b"%PDF-1.7\nnot really")


def test_a_slow_render_does_not_hold_up_a_fast_one():
    finished, results = [], {}

    def render(name: str, data: bytes) -> None:
        results[name] = processing.render_pdf_pages(data)
        finished.append(name)

    slow = threading.Thread(target=render, args=("slow", slow_pdf(SLOW_STROKES)))
    slow.start()
    time.sleep(0.3)  # a head start: under the old global lock, the slow render now holds it
    render("fast", blank_pdf())
    slow.join()

    assert finished == ["fast", "slow"]
    assert [len(results["fast"]), len(results["slow"])] == [1, 1]
    assert results["slow"][0].height == results["fast"][0].height == 1651
