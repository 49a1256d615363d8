"""A PDF page is judged by the pixels it would render to, before it is rendered."""

import io
import time

import pikepdf
import pytest

from moderation.samples import processing


def _pdf(*boxes, rotate=None) -> bytes:
    pdf = pikepdf.new()
    for box in boxes:
        page = pdf.add_blank_page(page_size=(612, 792))
        page.obj.MediaBox = pikepdf.Array(box)
        if rotate is not None:
            page.obj.Rotate = rotate
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


@pytest.mark.parametrize("pdf", [
    _pdf([0, 0, 612, 792], [0, 0, 100, 14400]),  # the reported file: one page, 539 bytes
    _pdf([0, 0, 3, 14400]),  # raised MemoryError
    _pdf([0, 0, 14400, 100], rotate=90),  # wide in points, but shown rotated
])
def test_a_page_far_longer_than_wide_is_refused_before_rendering(pdf):
    started = time.monotonic()
    with pytest.raises(processing.SampleFileError, match="too large to display") as error:
        processing.clean(pdf, "essay.pdf")
    assert time.monotonic() - started < 2
    assert "Page " in str(error.value) and "Letter or A4" in str(error.value)


def test_too_many_long_pages_together_are_refused():
    with pytest.raises(processing.SampleFileError, match="too large to display all together"):
        processing.clean(_pdf(*[[0, 0, 612, 3000]] * 40), "essay.pdf")


def test_normal_and_cropped_pages_still_render():
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(100, 14400))
    page.obj.CropBox = pikepdf.Array([0, 0, 100, 130])  # pdfium shows only the crop
    out = io.BytesIO()
    pdf.save(out)
    pages = processing.clean(out.getvalue(), "essay.pdf").pages
    assert (pages[0].width, pages[0].height) == (1275, 1658)
