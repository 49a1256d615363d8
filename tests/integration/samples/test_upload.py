"""Uploads are checked by content, cleaned of identifying metadata and shown in the page."""

import io
import re

import pikepdf
from PIL import Image

from moderation.core.audit import AuditEvent
from moderation.core.extensions import db
from moderation.samples import processing
from moderation.samples.models import StudentLink, WorkSample
from seed_data.pdfs import blank_pdf, text_pdf
from tests.fixtures.samples import GPS_IFD, jpeg_bytes

CODE = re.compile(r"WS-[2-9A-HJKMNP-TW-Z]{4}-[2-9A-HJKMNP-TW-Z]{4}")


def _uploaded(app, response) -> WorkSample:
    assert response.status_code == 302, response.text
    code = response.headers["Location"].rsplit("/", 1)[-1]
    assert CODE.fullmatch(code)
    with app.app_context():
        sample = db.session.execute(db.select(WorkSample).where(WorkSample.code == code)
                                    ).scalar_one()
        db.session.expunge(sample)
        return sample


def _download(client, sample) -> bytes:
    response = client.get(f"/samples/{sample.code}/download")
    assert response.status_code == 302
    with client.get(response.headers["Location"]) as file_response:
        assert file_response.status_code == 200
        assert sample.code in file_response.headers["Content-Disposition"]
        return file_response.data


def test_jpeg_loses_exif_and_gps(app, client, auth, create_teacher,
                                 create_rubric, post_upload):
    teacher = create_teacher()
    school = _school(app, teacher.memberships[0].school_id)
    version = create_rubric(school.district_id, criteria=2)
    original = jpeg_bytes(with_gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the test file has GPS
    auth.login(teacher)
    sample = _uploaded(app, post_upload(client, school, version, "IMG_jane_student.jpg",
                                        original))

    cleaned = Image.open(io.BytesIO(_download(client, sample)))
    assert cleaned.format == "JPEG"
    assert dict(cleaned.getexif()) == {}
    assert not cleaned.getexif().get_ifd(GPS_IFD)
    assert "exif" not in cleaned.info and "xmp" not in cleaned.info
    page = client.get(f"/samples/{sample.code}").text
    assert f'src="/samples/{sample.code}/image?v=' in page
    shown = client.get(f"/samples/{sample.code}/image")
    assert shown.mimetype == "image/jpeg"
    assert dict(Image.open(io.BytesIO(shown.data)).getexif()) == {}


def test_pdf_loses_author_title_and_xmp_and_its_pages_are_rendered(
        app, client, auth, create_teacher, create_rubric, post_upload):
    teacher = create_teacher()
    school = _school(app, teacher.memberships[0].school_id)
    version = create_rubric(school.district_id, criteria=2)
    original = text_pdf(author="Jane Student", pages=2)
    auth.login(teacher)
    sample = _uploaded(app, post_upload(client, school, version, "jane_student_essay.pdf",
                                        original))

    data = _download(client, sample)
    assert b"Jane Student" not in data
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert "/Author" not in pdf.docinfo and "/Title" not in pdf.docinfo
        assert "/Metadata" not in pdf.Root
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            assert "dc:creator" not in meta
        assert len(pdf.pages) == 2
    page = client.get(f"/samples/{sample.code}").text
    assert sample.page_count == 2
    for number in (1, 2):
        assert f'src="/samples/{sample.code}/pages/{number}.png?v=' in page
        image = client.get(f"/samples/{sample.code}/pages/{number}.png")
        assert image.status_code == 200 and image.mimetype == "image/png"
        assert Image.open(io.BytesIO(image.data)).width == 1275
    assert "jane_student_essay" not in client.get(f"/samples/{sample.code}/download").headers[
        "Location"]


def test_a_file_renamed_to_pdf_is_refused_with_a_clear_message(
        app, client, auth, create_teacher, create_rubric, post_upload):
    teacher = create_teacher()
    school = _school(app, teacher.memberships[0].school_id)
    version = create_rubric(school.district_id, criteria=2)
    auth.login(teacher)
    for data, says in [(b"Just some words, typed.", "plain text"),
                       (jpeg_bytes(), "a JPEG image"),
                       (b"\x00\x01\x02 binary junk", "is not a PDF, PNG, JPEG or plain-text")]:
        response = post_upload(client, school, version, "essay.pdf", data)
        assert response.status_code == 422
        assert says in response.text
        if "named like" in response.text:
            assert "The file is named like a PDF (.pdf)" in response.text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(WorkSample.id))) == 0


def test_a_damaged_pdf_is_refused(app, client, auth, create_teacher,
                                  create_rubric, post_upload):
    teacher = create_teacher()
    school = _school(app, teacher.memberships[0].school_id)
    version = create_rubric(school.district_id, criteria=2)
    auth.login(teacher)
    response = post_upload(client, school, version, "essay.pdf", b"%PDF-1.7\nnot really")
    assert response.status_code == 422
    assert "This PDF could not be read" in response.text


def test_a_pdf_too_large_to_display_is_refused_with_a_clear_message(
        app, client, auth, create_teacher, create_rubric, post_upload,
        monkeypatch):
    teacher = create_teacher()
    school = _school(app, teacher.memberships[0].school_id)
    version = create_rubric(school.district_id, criteria=2)
    auth.login(teacher)
    # A 612 x 3,600 pt page is inside the pixel budget and needs about 90 MB to render.
    monkeypatch.setattr(processing, "RENDER_MEMORY_LIMIT", 64 * 2**20)
    for data, says in [
            (blank_pdf(100, 14_400), "Page 1 of this PDF is 100 x 14,400 points"),
            (blank_pdf(612, 3_600),
             "This PDF needs more memory to display than the server allows (64 MB).")]:
        response = post_upload(client, school, version, "essay.pdf", data)
        assert response.status_code == 422
        assert says in response.text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(WorkSample.id))) == 0


def test_oversized_upload_gets_a_clear_413_page(app, client, auth, create_teacher):
    auth.login(create_teacher())
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    token = auth.csrf_token("/samples/new")
    # Built by hand: werkzeug's test client would spool this body to a temporary file that it
    # leaves open when the request is refused.
    body = b"\r\n".join([
        b"--b", b'Content-Disposition: form-data; name="csrf_token"', b"", token.encode(),
        b"--b", b'Content-Disposition: form-data; name="file"; filename="big.txt"',
        b"Content-Type: text/plain", b"", b"a" * (1024 * 1024 + 10), b"--b--", b""])
    response = client.post("/samples/new", data=body,
                           content_type="multipart/form-data; boundary=b")
    assert response.status_code == 413
    assert "The file is too large" in response.text
    assert "Files up to 1 MB can be uploaded" in response.text


def test_text_is_shown_escaped_and_the_file_name_is_kept_only_in_the_student_link(
        app, client, auth, create_teacher, create_district_admin,
        create_rubric, post_upload):
    teacher = create_teacher()
    school = _school(app, teacher.memberships[0].school_id)
    version = create_rubric(school.district_id, criteria=2)
    auth.login(teacher)
    sample = _uploaded(app, post_upload(
        client, school, version, "Jordan_Rivera_essay.txt",
        b"<script>alert('x')</script> Homework is <b>bad</b>.", student_name="Jordan Rivera"))

    page = client.get(f"/samples/{sample.code}").text
    assert "&lt;script&gt;alert(" in page and "<script>alert(" not in page
    assert "Jordan Rivera" in page  # the uploader is school staff: the student panel shows
    with app.app_context():
        link = db.session.execute(db.select(StudentLink)).scalar_one()
        assert link.original_filename == "Jordan_Rivera_essay.txt"
        stored = app.extensions["storage"].open(sample.storage_key)
        assert sample.storage_key not in "Jordan_Rivera_essay.txt"
        assert stored.startswith(b"<script>")
        event = db.session.execute(db.select(AuditEvent).where(
            AuditEvent.action == "sample_uploaded")).scalar_one()
        assert "Jordan" not in str(event.details)

    admin = create_district_admin(district=_district(app, school.district_id))
    admin_client = app.test_client()
    auth.for_client(admin_client).login(admin)
    page = admin_client.get(f"/samples/{sample.code}").text
    assert sample.code in page and "Jordan" not in page


def test_upload_needs_the_student_and_a_ready_rubric(app, client, auth, create_teacher,
                                                     create_rubric,
                                                     post_upload):
    teacher = create_teacher()
    school = _school(app, teacher.memberships[0].school_id)
    version = create_rubric(school.district_id, criteria=2)
    auth.login(teacher)
    response = post_upload(client, school, version, "essay.txt", b"words", student_name="")
    assert response.status_code == 422
    assert "Enter the student&#39;s name or local ID" in response.text
    response = post_upload(client, school, version, "essay.txt", b"words", student_name="",
                           student_local_id="S-1042")
    assert response.status_code == 302


def test_teacher_cannot_upload_into_another_school(app, client, auth, create_teacher,
                                                   create_school,
                                                   create_rubric,
                                                   post_upload):
    teacher = create_teacher()
    mine = _school(app, teacher.memberships[0].school_id)
    other = create_school(district=mine.district_id)
    version = create_rubric(mine.district_id, criteria=2)
    auth.login(teacher)
    response = post_upload(client, other, version, "essay.txt", b"words")
    assert response.status_code == 422
    assert "Not a valid choice" in response.text


def _school(app, school_id):
    from moderation.accounts.models import School

    with app.app_context():
        school = db.session.get(School, school_id)
        db.session.expunge(school)
        return school


def _district(app, district_id):
    from moderation.accounts.models import District

    with app.app_context():
        district = db.session.get(District, district_id)
        db.session.expunge(district)
        return district


def test_photos_placed_inside_a_pdf_lose_their_exif_and_xmp_too():
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(612, 792))
    photo = pdf.make_stream(jpeg_bytes(with_gps=True), Type=pikepdf.Name.XObject,
                            Subtype=pikepdf.Name.Image, Width=320, Height=200,
                            ColorSpace=pikepdf.Name.DeviceRGB, BitsPerComponent=8,
                            Filter=pikepdf.Name.DCTDecode)
    photo.Metadata = pdf.make_stream(b"<x:xmpmeta>Jane Student</x:xmpmeta>")
    page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=photo))
    page.obj.Contents = pdf.make_stream(b"q 320 0 0 200 72 500 cm /Im0 Do Q")
    out = io.BytesIO()
    pdf.save(out)
    assert b"Exif" in out.getvalue() and b"Jane Student" in out.getvalue()

    cleaned = processing.clean(out.getvalue(), "scan.pdf")
    assert b"Exif" not in cleaned.data and b"Jane Student" not in cleaned.data
    rendered = Image.open(io.BytesIO(cleaned.pages[0].png)).convert("RGB")
    assert rendered.getpixel((200, 400)) == (201, 60, 40)  # the photo is still on the page


def test_text_from_older_windows_editors_and_oversized_images():
    cp1252 = "Caf\u00e9 \u201cquotes\u201d".encode("cp1252")
    assert processing.clean(cp1252, "essay.txt").data.decode() == "Caf\u00e9 \u201cquotes\u201d"
    huge = io.BytesIO()
    Image.new("1", (8000, 7000)).save(huge, "PNG")
    try:
        processing.clean(huge.getvalue(), "scan.png")
    except processing.SampleFileError as error:
        assert "8000 x 7000 pixels; images up to 50 megapixels" in str(error)
    else:
        raise AssertionError("a 56-megapixel image was accepted")
