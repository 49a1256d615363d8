"""Small synthetic PDFs for tests and benchmarks: typed text, a blank page, a slow page.

pikepdf only, no app, so `benchmarks/` and `tests/` make the same files the same way.
"""

import io

import pikepdf


def text_pdf(text: str = "My essay about homework", *, pages: int = 1, lines: int = 1,
             font_size: int = 20, author: str | None = None) -> bytes:
    """Letter pages of Helvetica text, `lines` lines a page, each `text (page n)` (with
    `, line m` when a page has more than one). With `author`, the name is also in the docinfo
    and XMP, as a word processor leaves it."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font,
                                                Subtype=pikepdf.Name.Type1,
                                                BaseFont=pikepdf.Name.Helvetica,
                                                # latin-1 text reads back as written (é, ñ)
                                                Encoding=pikepdf.Name.WinAnsiEncoding))
    leading = round(font_size * 1.25)
    for number in range(1, pages + 1):
        page = pdf.add_blank_page(page_size=(612, 792))
        page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        shown = b"".join(
            b"(" + _line(text, number, line, lines).encode("latin-1") + b") Tj T*\n"
            for line in range(1, lines + 1))
        page.obj.Contents = pdf.make_stream(
            b"BT /F1 %d Tf %d TL 72 700 Td\n" % (font_size, leading) + shown + b"ET")
    if author:
        pdf.docinfo["/Author"] = author
        pdf.docinfo["/Title"] = f"Essay by {author}"
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta["dc:creator"] = [author]
    return _saved(pdf)


def _line(text: str, page: int, line: int, lines: int) -> str:
    return f"{text} (page {page})" if lines == 1 else f"{text} (page {page}, line {line})"


def blank_pdf(width: float = 612, height: float = 792) -> bytes:
    """One blank page of `width` x `height` points."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(width, height))
    return _saved(pdf)


def slow_pdf(strokes: int) -> bytes:
    """A letter page of `strokes` crossing lines: small, within the pixel budget, and slow to
    render (pdfium needs about 0.1 ms a line)."""
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(612, 792))
    page.obj.Contents = pdf.make_stream(b"".join(
        b"%d %d m %d %d l S\n" % (i % 612, i * 7 % 792, i * 13 % 612, i * 3 % 792)
        for i in range(strokes)))
    return _saved(pdf)


def _saved(pdf: pikepdf.Pdf) -> bytes:
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()
