"""What an uploaded file is, and a copy of it with nothing that identifies its author.

The type comes from the content (magic bytes, then a full parse), never from the file name; a
name that claims another type is refused, because a mismatch usually means the wrong file.
Images are decoded and re-encoded from their pixels alone, so EXIF (camera, GPS, dates), XMP,
comments and colour-profile chunks are gone. PDFs are rewritten without the document
information dictionary (author, title, ...), XMP metadata, scripts, embedded files or annotation
authors, and their pages are rendered to PNG on the server so raters' browsers never run a PDF
(in a child process with memory and time limits: render_worker).
Plain text is decoded and stored as UTF-8; it is always displayed escaped.

No Flask and no database here: bytes in, bytes out.
"""

import io
import logging
import math
import signal
import subprocess
import sys
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePath

import pikepdf
from PIL import Image, ImageOps

from moderation.samples import render_worker
from moderation.samples.render_worker import PAGE_RENDER_WIDTH, RenderedPage

MAX_PDF_PAGES = 40
MAX_IMAGE_PIXELS = 50_000_000
ACCEPTED = "PDF, PNG, JPEG or plain-text (.txt)"
# A PDF render's limits. A letter page needs about 40 MB and 0.1-0.5 s (a noisy scan up to
# 2.5 s, most of it PNG compression, on a busy server); 40 such pages stay well inside both.
RENDER_MEMORY_LIMIT = 1024 * 1024 * 1024
RENDER_TIMEOUT_SECONDS = 60
# `python -m` finds the package from here whether or not it is installed.
_PROJECT_ROOT = PurePath(__file__).parents[2]

log = logging.getLogger(__name__)


class FileKind(StrEnum):
    PDF = "pdf"
    PNG = "png"
    JPEG = "jpeg"
    TEXT = "text"

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self]

    @property
    def label(self) -> str:
        return {"pdf": "PDF", "png": "PNG image", "jpeg": "JPEG image",
                "text": "plain text"}[self.value]

    @property
    def described(self) -> str:
        return {"pdf": "a PDF", "png": "a PNG image", "jpeg": "a JPEG image",
                "text": "plain text"}[self.value]

    @property
    def extension(self) -> str:
        return {"pdf": ".pdf", "png": ".png", "jpeg": ".jpg", "text": ".txt"}[self.value]


CONTENT_TYPES = {FileKind.PDF: "application/pdf", FileKind.PNG: "image/png",
                 FileKind.JPEG: "image/jpeg", FileKind.TEXT: "text/plain; charset=utf-8"}
KIND_BY_CONTENT_TYPE = {v: k for k, v in CONTENT_TYPES.items()}
EXTENSIONS = {".pdf": FileKind.PDF, ".png": FileKind.PNG, ".jpg": FileKind.JPEG,
              ".jpeg": FileKind.JPEG, ".txt": FileKind.TEXT, ".text": FileKind.TEXT}


class SampleFileError(ValueError):
    """The upload cannot be accepted; the message says why, for the person who uploaded it."""


@dataclass(frozen=True)
class CleanFile:
    """The anonymised file to store, and what to show instead of it (pages of a PDF)."""

    kind: FileKind
    data: bytes
    pages: list[RenderedPage] = field(default_factory=list)
    width: int | None = None
    height: int | None = None

    @property
    def content_type(self) -> str:
        return self.kind.content_type

    @property
    def page_count(self) -> int:
        return len(self.pages) if self.kind == FileKind.PDF else 1


def detect_kind(data: bytes) -> FileKind | None:
    """The file's type from its first bytes, or None when it is none of the accepted types.

    A PDF header may follow a little junk (readers accept it within the first KB); text must be
    UTF-8 without control characters other than tab, newline and carriage return.
    """
    if b"%PDF-" in data[:1024]:
        return FileKind.PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileKind.PNG
    if data.startswith(b"\xff\xd8\xff"):
        return FileKind.JPEG
    if _decode_text(data) is not None:
        return FileKind.TEXT
    return None


def clean(data: bytes, filename: str | None = None) -> CleanFile:
    """Check and anonymise an upload; SampleFileError explains any refusal."""
    if not data:
        raise SampleFileError("The file is empty.")
    kind = detect_kind(data)
    claimed = EXTENSIONS.get(PurePath(filename or "").suffix.lower())
    if kind is None:
        raise SampleFileError(f"This file is not a {ACCEPTED} file. Save or export the work in "
                              f"one of those formats and upload it again.")
    if claimed is not None and claimed != kind:
        raise SampleFileError(
            f"The file is named like a {claimed.label} ({PurePath(filename).suffix}) but its "
            f"content is {kind.described}. Check that you chose the right file, or save it "
            f"again in the format its name says.")
    if kind == FileKind.PDF:
        return _clean_pdf(data)
    if kind == FileKind.TEXT:
        return CleanFile(kind, _decode_text(data).encode("utf-8"))
    return _clean_image(data, kind)


def _decode_text(data: bytes) -> str | None:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, or else Windows-1252 (older Windows
    editors); None when the result holds control characters, i.e. the bytes are not text."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8-sig", "cp1252"]
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in text):
            return None
        return text
    return None


# --- images ------------------------------------------------------------------------------------

def _too_large(size: str = "too large") -> SampleFileError:
    return SampleFileError(
        f"The image is {size}; images up to {MAX_IMAGE_PIXELS // 1_000_000} megapixels are "
        f"accepted. Scan or photograph at a lower resolution.")


def _clean_image(data: bytes, kind: FileKind) -> CleanFile:
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise _too_large(f"{image.width} x {image.height} pixels")
            image.load()
            # Honour the camera's rotation before the EXIF that records it is dropped.
            upright = ImageOps.exif_transpose(image)
    except SampleFileError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # Pillow's own guard fires in open() for images far beyond ours (or, where warnings
        # are errors, a little beyond its default).
        raise _too_large() from error
    except (OSError, ValueError, SyntaxError) as error:
        raise SampleFileError(f"This {kind.label} could not be read; it may be damaged. "
                              f"Export it again and upload the new copy.") from error
    pixels = _pixels_only(upright, keep_alpha=kind == FileKind.PNG)
    out = io.BytesIO()
    if kind == FileKind.JPEG:
        pixels.save(out, "JPEG", quality=90, optimize=True)
    else:
        pixels.save(out, "PNG", optimize=True)
    return CleanFile(kind, out.getvalue(), width=pixels.width, height=pixels.height)


def _pixels_only(image: Image.Image, *, keep_alpha: bool) -> Image.Image:
    """A new image built from the pixel values alone: no info, EXIF, XMP or ICC chunks."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if image.mode in ("1", "L", "I;16", "I", "F"):
        mode = "L"
    else:
        mode = "RGBA" if keep_alpha and has_alpha else "RGB"
    converted = image.convert(mode)
    return Image.frombytes(mode, converted.size, converted.tobytes())


# --- PDFs --------------------------------------------------------------------------------------

_ROOT_KEYS_TO_DROP = ("/Metadata", "/OpenAction", "/PieceInfo", "/SpiderInfo", "/Threads",
                      "/URI", "/NeedsRendering")
_PAGE_KEYS_TO_DROP = ("/Metadata", "/PieceInfo", "/Thumb")
_NAME_TREES_TO_DROP = ("/JavaScript", "/EmbeddedFiles")
_ANNOTATION_KEYS_TO_DROP = ("/T", "/Contents", "/RC", "/M", "/NM", "/Popup")
# Attached files and comment pop-ups carry content we do not show; the multimedia annotations
# exist to play or run something.
_ANNOTATION_TYPES_TO_DROP = frozenset(pikepdf.Name(n) for n in (
    "/FileAttachment", "/Popup", "/Screen", "/RichMedia", "/Movie", "/Sound", "/3D"))
# Additional actions (triggers on pages, annotations, fields and the document) and XFA forms
# (which carry their own scripts) go wherever they are.
_ACTIVE_KEYS = ("/AA", "/XFA")
# Every action type of ISO 32000-2 (12.6.4). Only GoTo to one of the file's own pages is kept:
# the rest run scripts, submit or import data, open files or web pages, or play media.
_ACTION_TYPES = frozenset(pikepdf.Name(n) for n in (
    "/GoTo", "/GoToR", "/GoToE", "/GoToDp", "/Launch", "/Thread", "/URI", "/Sound", "/Movie",
    "/Hide", "/Named", "/SubmitForm", "/ResetForm", "/ImportData", "/SetOCGState",
    "/Rendition", "/Trans", "/GoTo3DView", "/JavaScript", "/RichMediaExecute"))
_ACTION_KEYS = ("/A", "/OpenAction")


def _clean_pdf(data: bytes) -> CleanFile:
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            n_pages = len(pdf.pages)
            if n_pages == 0:
                raise SampleFileError("This PDF has no pages.")
            if n_pages > MAX_PDF_PAGES:
                raise SampleFileError(f"This PDF has {n_pages} pages; a work sample can have at "
                                      f"most {MAX_PDF_PAGES}. Upload the pages that matter.")
            _strip_pdf(pdf)
            out = io.BytesIO()
            # A fresh /ID, so the copy cannot be matched to the original file by its identifier.
            pdf.save(out, deterministic_id=True, fix_metadata_version=False)
    except SampleFileError:
        raise
    except pikepdf.PasswordError as error:
        raise SampleFileError("This PDF is password-protected. Save a copy without a password "
                              "and upload that.") from error
    except (pikepdf.PdfError, ValueError, OSError) as error:
        raise SampleFileError("This PDF could not be read; it may be damaged. Export it again "
                              "and upload the new copy.") from error
    cleaned = out.getvalue()
    return CleanFile(FileKind.PDF, cleaned, pages=render_pdf_pages(cleaned))


def _strip_pdf(pdf: pikepdf.Pdf) -> None:
    if "/Info" in pdf.trailer:
        del pdf.trailer["/Info"]
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            continue
        if "/Metadata" in obj:  # XMP on images, forms and fonts, not only on the catalog
            del obj["/Metadata"]
        if (isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == pikepdf.Name.Image
                and obj.get("/Filter") == pikepdf.Name.DCTDecode):
            # A scan or photo placed in a PDF keeps its camera EXIF (and GPS) inside the JPEG.
            obj.write(strip_jpeg_metadata(obj.read_raw_bytes()), filter=pikepdf.Name.DCTDecode,
                      decode_parms=obj.get("/DecodeParms"))
    root = pdf.Root
    for key in _ROOT_KEYS_TO_DROP:
        if key in root:
            del root[key]
    if "/Names" in root:
        for key in _NAME_TREES_TO_DROP:
            if key in root.Names:
                del root.Names[key]
    for page in pdf.pages:
        for key in _PAGE_KEYS_TO_DROP:
            if key in page.obj:
                del page.obj[key]
        if "/Annots" not in page.obj:
            continue
        kept = pikepdf.Array()
        for annotation in page.obj.Annots:
            if annotation.get("/Subtype") in _ANNOTATION_TYPES_TO_DROP:
                continue
            for key in _ANNOTATION_KEYS_TO_DROP:
                if key in annotation:
                    del annotation[key]
            kept.append(annotation)
        page.obj.Annots = kept
    _remove_actions(pdf)


def _remove_actions(pdf: pikepdf.Pdf) -> None:
    """Every action but a GoTo to one of the file's pages, and every trigger, removed.

    Actions hide in many places (links, form fields and their /Kids, outline items, name trees,
    /Next chains), so rather than visit the places readers look, this walks every object in the
    file, indirect ones and the dictionaries nested inside them: a reference to an action is
    deleted from whatever holds it, and an indirect action object is emptied besides.
    """
    is_goto_to_page = _goto_checker(pdf)
    seen: set[tuple[int, int]] = set()
    stack: list[pikepdf.Object] = [pdf.trailer, *pdf.objects]
    while stack:
        obj = stack.pop()
        if not isinstance(obj, pikepdf.Array | pikepdf.Dictionary | pikepdf.Stream):
            continue  # names, numbers and strings hold nothing
        if obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        if isinstance(obj, pikepdf.Array):
            for index in reversed(range(len(obj))):
                if _is_action(obj[index]) and not is_goto_to_page(obj[index]):
                    del obj[index]
                else:
                    stack.append(obj[index])
            continue
        if _is_action(obj):
            if not is_goto_to_page(obj):
                _empty(obj)
                continue
            for key in set(obj.keys()) - {"/Type", "/S", "/D"}:
                del obj[key]  # /Next chains further actions onto a GoTo
        for key in _ACTIVE_KEYS:
            if key in obj:
                del obj[key]
        for key in list(obj.keys()):
            child = obj[key]
            if (_is_action(child) or key in _ACTION_KEYS) and not is_goto_to_page(child):
                del obj[key]
            else:
                stack.append(child)


def _is_action(obj: pikepdf.Object) -> bool:
    if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
        return False
    return ("/JS" in obj or obj.get("/Type") == pikepdf.Name.Action
            or obj.get("/S") in _ACTION_TYPES)


def _empty(obj: pikepdf.Object) -> None:
    for key in list(obj.keys()):
        del obj[key]


def _goto_checker(pdf: pikepdf.Pdf):
    """A test for "this is a GoTo action to a page of this file" (directly or by a named
    destination, ISO 32000-2, 12.3.2.4); a GoTo to a page number names a page of another file."""
    pages = {page.obj.objgen for page in pdf.pages}
    root = pdf.Root
    dests = root.get("/Dests")
    tree = root.Names.get("/Dests") if "/Names" in root else None
    tree = pikepdf.NameTree(tree) if isinstance(tree, pikepdf.Dictionary) else None

    def named(name: pikepdf.Object) -> pikepdf.Object | None:
        if isinstance(name, pikepdf.Name) and isinstance(dests, pikepdf.Dictionary):
            return dests.get(name)
        if isinstance(name, pikepdf.String) and tree is not None:
            return tree.get(bytes(name).decode("latin-1"))
        return None

    def to_page(dest: pikepdf.Object | None) -> bool:
        if isinstance(dest, pikepdf.Name | pikepdf.String):
            dest = named(dest)
        if isinstance(dest, pikepdf.Dictionary):
            dest = dest.get("/D")
        return (isinstance(dest, pikepdf.Array) and len(dest) > 0
                and isinstance(dest[0], pikepdf.Dictionary) and dest[0].objgen in pages)

    def check(obj: pikepdf.Object) -> bool:
        return (isinstance(obj, pikepdf.Dictionary) and obj.get("/S") == pikepdf.Name.GoTo
                and "/JS" not in obj and to_page(obj.get("/D")))

    return check


# APP0 (JFIF) and APP14 (Adobe: colour transform) describe the pixels; every other APPn
# segment (EXIF, XMP, ICC, maker notes, ...) and COM describe the photo or its author.
_KEPT_JPEG_MARKERS = {0xE0, 0xEE}


def strip_jpeg_metadata(data: bytes) -> bytes:
    """The JPEG without its APP1-APP13, APP15 and comment segments; the image data is
    untouched. Data that does not parse as JPEG is returned as it is."""
    if not data.startswith(b"\xff\xd8"):
        return data
    out, i = bytearray(b"\xff\xd8"), 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        if marker == 0xDA:  # start of scan: the rest is image data
            break
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if length < 2:
            return data
        if not (0xE1 <= marker <= 0xEF or marker == 0xFE) or marker in _KEPT_JPEG_MARKERS:
            out += data[i:i + 2 + length]
        i += 2 + length
    return bytes(out + data[i:])


def render_pdf_pages(data: bytes, width: int = PAGE_RENDER_WIDTH, *,
                     memory_limit: int | None = None,
                     timeout: float | None = None) -> list[RenderedPage]:
    """Each page as a PNG `width` pixels wide (no forms or scripts are run).

    Rendered by render_worker in a child process with at most `memory_limit` bytes of address
    space (RENDER_MEMORY_LIMIT) for `timeout` seconds (RENDER_TIMEOUT_SECONDS), so one upload
    can neither exhaust the server nor hold up the others. Every page's rendered size is
    checked against the pixel budgets before any is rendered. SampleFileError says why a PDF
    cannot be shown.
    """
    output = _run_worker(str(width), data, memory_limit, timeout)
    return render_worker.decode_pages(output)


def pdf_page_texts(data: bytes) -> list[str]:
    """Each page's text layer ("" where a page has none, as a scan has not), read by
    render_worker in a child process under the same limits as a render."""
    return render_worker.decode_texts(_run_worker(render_worker.TEXT_MODE, data, None, None))


def _run_worker(mode: str, data: bytes, memory_limit: int | None,
                timeout: float | None) -> bytes:
    memory_limit = memory_limit or RENDER_MEMORY_LIMIT
    timeout = timeout or RENDER_TIMEOUT_SECONDS
    command = [sys.executable, "-m", render_worker.__name__, mode, str(memory_limit),
               str(math.ceil(timeout) + 1)]
    try:
        child = subprocess.run(command, input=data, capture_output=True, timeout=timeout,
                               cwd=_PROJECT_ROOT)
    except subprocess.TimeoutExpired as error:  # run() has killed the child
        raise _needs_more("time", f"{timeout:g} seconds") from error
    if child.returncode == 0:
        return child.stdout
    if child.returncode == render_worker.REFUSED:
        raise SampleFileError(child.stdout.decode())
    if child.returncode == -signal.SIGXCPU:
        raise _needs_more("time", f"{timeout:g} seconds")
    if child.returncode == render_worker.OUT_OF_MEMORY or child.returncode < 0:
        # Native code that cannot allocate under the limit aborts or crashes (a signal).
        log.warning("PDF render stopped at the %d MB memory limit (exit %s). %s",
                    memory_limit // 2**20, child.returncode,
                    child.stderr.decode(errors="replace")[-2000:])
        raise _needs_more("memory", f"{memory_limit // 2**20:,} MB")
    raise RuntimeError(f"The PDF render worker failed (exit {child.returncode}): "
                       f"{child.stderr.decode(errors='replace')[-2000:]}")


def _needs_more(what: str, allowed: str) -> SampleFileError:
    return SampleFileError(
        f"This PDF needs more {what} to display than the server allows ({allowed}). Upload "
        f"the pages that matter, or print or export the work to PDF again (on Letter or A4 "
        f"paper, with scans at 150-300 dpi) and upload that.")


# --- redaction ---------------------------------------------------------------------------------

MAX_REDACTION_BOXES = 40
# Rendered pages are PAGE_RENDER_WIDTH pixels wide, 150 dpi on a Letter page: a PDF rebuilt
# from them at that resolution prints at the size the original had.
REBUILT_PDF_DPI = 150.0


class RedactionError(ValueError):
    """Boxes that cannot be burned in; the message says why, for the person who drew them."""


@dataclass(frozen=True)
class Box:
    """A rectangle on a page, as fractions of the page's width and height from its top left."""

    x: float
    y: float
    width: float
    height: float

    def pixels(self, image_width: int, image_height: int) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) in pixels, rounded outwards so the box covers every pixel
        it touches."""
        left, top = math.floor(self.x * image_width), math.floor(self.y * image_height)
        right = math.ceil((self.x + self.width) * image_width)
        bottom = math.ceil((self.y + self.height) * image_height)
        return (max(left, 0), max(top, 0), min(right, image_width), min(bottom, image_height))


# Drawn boxes may end a hair outside the page after rounding in the browser.
_EDGE_TOLERANCE = 1e-6


def box_from_fractions(x: float, y: float, width: float, height: float) -> Box:
    """A Box, or RedactionError when it is not a rectangle inside the page."""
    values = (x, y, width, height)
    if not all(math.isfinite(v) for v in values):
        raise RedactionError("A box's position and size must be numbers.")
    if width <= 0 or height <= 0:
        raise RedactionError("A box needs a width and a height above zero.")
    if (x < 0 or y < 0 or x + width > 1 + _EDGE_TOLERANCE
            or y + height > 1 + _EDGE_TOLERANCE):
        raise RedactionError("A box must lie inside the page: left and top from 0 to 100 %, "
                             "and left + width, top + height at most 100 %.")
    return Box(x, y, min(width, 1 - x), min(height, 1 - y))


def check_boxes(boxes: list[Box]) -> list[Box]:
    if not boxes:
        raise RedactionError("Draw a box over each name first (or enter one in the fields).")
    if len(boxes) > MAX_REDACTION_BOXES:
        raise RedactionError(f"At most {MAX_REDACTION_BOXES} boxes can be blacked out at once; "
                             f"send the rest in a second go.")
    return boxes


def burn_boxes(data: bytes, kind: FileKind, boxes: list[Box]) -> bytes | None:
    """The image (PNG or JPEG) with every box filled opaque black, or None when that changes
    no pixel (the boxes were burned in before): redacting twice is the same as once."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        burned = image.copy()
    black = {"RGBA": (0, 0, 0, 255), "RGB": (0, 0, 0), "L": 0, "LA": (0, 255)}.get(
        burned.mode)
    if black is None:
        burned = burned.convert("RGB")
        black = (0, 0, 0)
    before = burned.tobytes()
    for box in boxes:
        left, top, right, bottom = box.pixels(burned.width, burned.height)
        if right > left and bottom > top:
            burned.paste(black, (left, top, right, bottom))
    if burned.tobytes() == before:
        return None
    out = io.BytesIO()
    if kind == FileKind.JPEG:
        burned.save(out, "JPEG", quality=90, optimize=True)
    else:
        burned.save(out, "PNG", optimize=True)
    return out.getvalue()


def pdf_from_page_images(pages: list[bytes]) -> bytes:
    """A PDF made of nothing but these page images (no text layer, no metadata): what a
    redacted PDF sample downloads as, so no blacked-out word survives in a hidden layer."""
    images = [Image.open(io.BytesIO(page)) for page in pages]
    try:
        rgb = [image.convert("RGB") for image in images]
        out = io.BytesIO()
        rgb[0].save(out, "PDF", save_all=True, append_images=rgb[1:],
                    resolution=REBUILT_PDF_DPI)
    finally:
        for image in images:
            image.close()
    return out.getvalue()
