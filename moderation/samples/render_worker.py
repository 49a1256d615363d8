"""A PDF's pages rendered to PNG in a process of its own, under an address-space limit.

    python -m moderation.samples.render_worker WIDTH MEMORY_LIMIT_BYTES CPU_SECONDS < essay.pdf
    python -m moderation.samples.render_worker text MEMORY_LIMIT_BYTES CPU_SECONDS < essay.pdf

processing.render_pdf_pages runs this for every PDF upload; processing.pdf_page_texts runs the
second form (each page's text layer, for the search for names before a sample is confirmed).
pdfium works on a hostile file, where a few hundred bytes can ask for gigabytes or minutes, and
a limit can stop a process of its own without stopping the server. Renders of different uploads
also run side by side instead of queueing for one lock: pdfium is not thread-safe, but this
process has a single thread.

Every page's rendered size is checked against the pixel budget before any page is rendered.
The answer is the exit status: 0 with the pages on stdout (each as its width, height and PNG
length, three big-endian 32-bit numbers, then the PNG); REFUSED with a message for the uploader
on stdout; OUT_OF_MEMORY when an allocation failed under the limit. The text form answers each
page's text as its UTF-8 length (a big-endian 32-bit number) and the UTF-8.

Only pypdfium2 and Pillow are loaded (not pikepdf, not Flask), so the process starts in about
0.1 s with under 40 MB of address space, and nearly all of the limit is left for the render.
"""

import io
import math
import resource
import struct
import sys
from dataclasses import dataclass

import pypdfium2 as pdfium
from PIL import Image

# Rendered pages are this wide at most (about 150 dpi on a letter or A4 page).
PAGE_RENDER_WIDTH = 1275
# Rendered pages are judged by their pixels, not their area: at a fixed width a thin page
# scales up (a 3-pt-wide page 425 times). 10 megapixels is a page about six times as long as it
# is wide; a Letter or A4 page is 2.1-2.3 megapixels.
MAX_PAGE_PIXELS = 10_000_000
MAX_DOCUMENT_PIXELS = 120_000_000

REFUSED = 3
OUT_OF_MEMORY = 4
_HEADER = struct.Struct(">III")
_TEXT_HEADER = struct.Struct(">I")
TEXT_MODE = "text"


@dataclass(frozen=True)
class RenderedPage:
    number: int
    png: bytes
    width: int
    height: int


class Refused(Exception):
    """The PDF cannot be shown; the message says why, for the person who uploaded it."""


def render_pages(data: bytes, width: int) -> list[RenderedPage]:
    """Each page as a PNG `width` pixels wide (no forms or scripts are run), in this process.

    Refused if the file cannot be read or a page is over the pixel budget; MemoryError if
    pdfium could not allocate a page's bitmap.
    """
    pages = []
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        raise _damaged() from error
    try:
        # pdfium's sizes are the ones it renders: CropBox within MediaBox, /Rotate applied.
        sizes = [document.get_page_size(index) for index in range(len(document))]
        _check_pixel_budget(sizes, width)
        for index, (page_width, _) in enumerate(sizes):
            try:
                page = document[index]
            except pdfium.PdfiumError as error:
                raise _damaged() from error
            try:
                image = page.render(scale=width / max(page_width, 1)).to_pil()
            except pdfium.PdfiumError as error:
                # The page loaded, so the failure is its bitmap: pdfium returns no buffer
                # when the allocation is refused.
                raise MemoryError(str(error)) from error
            finally:
                page.close()
            out = io.BytesIO()
            image.convert("RGB").save(out, "PNG", optimize=True)
            pages.append(RenderedPage(index + 1, out.getvalue(), image.width, image.height))
    finally:
        document.close()
    return pages


def _damaged() -> Refused:
    return Refused("This PDF's pages could not be displayed; it may be damaged. Export it again "
                   "and upload the new copy.")


def _check_pixel_budget(sizes: list[tuple[float, float]], width: int) -> None:
    total = 0
    for number, (page_width, page_height) in enumerate(sizes, start=1):
        pixels = width * math.ceil(page_height * width / max(page_width, 1))
        if pixels > MAX_PAGE_PIXELS:
            raise Refused(
                f"Page {number} of this PDF is {page_width:,.0f} x {page_height:,.0f} points, "
                f"far longer than it is wide, and too large to display. Pages up to about "
                f"{MAX_PAGE_PIXELS // (width * width)} times as long as they are wide can be "
                f"shown. Print or export the work to PDF on Letter or A4 paper and upload that.")
        total += pixels
    if total > MAX_DOCUMENT_PIXELS:
        raise Refused(
            "This PDF's pages are too large to display all together. Upload the pages that "
            "matter, or print or export the work to PDF on Letter or A4 paper and upload that.")


def page_texts(data: bytes) -> list[str]:
    """Each page's text layer as pdfium reads it ("" for a page without one, such as a scan)."""
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        raise _damaged() from error
    texts = []
    try:
        for index in range(len(document)):
            page = document[index]
            try:
                textpage = page.get_textpage()
                texts.append(textpage.get_text_range())
                textpage.close()
            finally:
                page.close()
    except pdfium.PdfiumError as error:
        raise _damaged() from error
    finally:
        document.close()
    return texts


def encode_texts(texts: list[str]) -> bytes:
    encoded = [text.encode("utf-8", errors="replace") for text in texts]
    return b"".join(_TEXT_HEADER.pack(len(text)) + text for text in encoded)


def decode_texts(data: bytes) -> list[str]:
    texts, offset = [], 0
    while offset < len(data):
        (length,) = _TEXT_HEADER.unpack_from(data, offset)
        offset += _TEXT_HEADER.size
        texts.append(data[offset:offset + length].decode("utf-8", errors="replace"))
        offset += length
    return texts


def encode_pages(pages: list[RenderedPage]) -> bytes:
    return b"".join(_HEADER.pack(page.width, page.height, len(page.png)) + page.png
                    for page in pages)


def decode_pages(data: bytes) -> list[RenderedPage]:
    pages, offset = [], 0
    while offset < len(data):
        width, height, length = _HEADER.unpack_from(data, offset)
        offset += _HEADER.size
        png = data[offset:offset + length]
        if len(png) != length:
            raise ValueError(f"the render worker's output ends inside page {len(pages) + 1}")
        pages.append(RenderedPage(len(pages) + 1, png, width, height))
        offset += length
    return pages


def main(argv: list[str]) -> int:
    mode, memory_limit, cpu_seconds = argv[0], int(argv[1]), int(argv[2])
    # Pillow's codecs are loaded now: under the limit a shared library may fail to map.
    Image.preinit()
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    # The parent kills this process at its wall-clock deadline; if the parent is gone, this
    # stops it anyway (a single thread never has more CPU time than wall-clock time).
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    data = sys.stdin.buffer.read()
    try:
        if mode == TEXT_MODE:
            output = encode_texts(page_texts(data))
        else:
            output = encode_pages(render_pages(data, int(mode)))
    except Refused as refusal:
        sys.stdout.buffer.write(str(refusal).encode())
        return REFUSED
    except MemoryError:
        return OUT_OF_MEMORY
    sys.stdout.buffer.write(output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
