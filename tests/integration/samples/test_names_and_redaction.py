"""Before an uploader confirms that no names are visible, the work is searched for the names
they typed and the ones the platform knows; names on page images are blacked out for good."""

import io
import json

import pikepdf
import pypdfium2 as pdfium
import pytest
from PIL import Image

from moderation.accounts.models import School
from moderation.core.audit import AuditEvent
from moderation.core.extensions import db
from moderation.core.storage import StorageError
from moderation.samples.models import SamplePage, SampleStatus, WorkSample
from seed_data.pdfs import text_pdf
from tests.fixtures.samples import png_bytes

HX = {"HX-Request": "true", "HX-Target": "name-check"}


def pdf_with_a_scanned_page(text: str) -> bytes:
    """Page 1 has a text layer holding `text`; page 2 is a picture only, like a scan."""
    with pikepdf.open(io.BytesIO(text_pdf(text))) as pdf:
        page = pdf.add_blank_page(page_size=(612, 792))
        picture = pikepdf.Stream(pdf, bytes([30, 30, 30]) * 4)
        picture.Type, picture.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
        picture.Width, picture.Height, picture.BitsPerComponent = 2, 2, 8
        picture.ColorSpace = pikepdf.Name.DeviceRGB
        page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=picture))
        page.obj.Contents = pdf.make_stream(b"q 200 0 0 100 72 600 cm /Im0 Do Q")
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


@pytest.fixture
def uploader(app, create_school, create_teacher):
    """A teacher, logged in, at a school with a name the search can find."""
    def make(client, auth, school_name="Riverbend Elementary", teacher="Amara Okafor",
             grade_band="9-12"):
        school = create_school(name=school_name)
        with app.app_context():
            db.session.get(School, school.id).grade_band = grade_band
            db.session.commit()
        user = create_teacher(school=school, name=teacher)
        auth.login(user)
        return school, user

    return make


def _upload(app, client, post_upload, school, version, filename, data, **fields) -> WorkSample:
    response = post_upload(client, school, version, filename, data, **fields)
    assert response.status_code == 302, response.text
    code = response.headers["Location"].rsplit("/", 1)[-1]
    with app.app_context():
        sample = db.session.execute(db.select(WorkSample).where(WorkSample.code == code)
                                    ).scalar_one()
        _ = sample.pages
        db.session.expunge_all()
        return sample


def _reload(app, sample) -> WorkSample:
    with app.app_context():
        row = db.session.get(WorkSample, sample.id)
        _ = row.pages
        db.session.expunge_all()
        return row


# --- the search -------------------------------------------------------------------------------

def test_names_in_plain_text_are_highlighted_in_context_and_escaped(
        app, client, auth, uploader, create_rubric, post_upload):
    school, _ = uploader(client, auth)
    version = create_rubric(school.district_id, criteria=2)
    text = (b"<b>Essay</b> by JANE\n  student, Ms Okafor's class at riverbend.\n"
            b"Janet and Studentship are other words.")
    sample = _upload(app, client, post_upload, school, version, "essay.txt", text,
                     student_name="Jane Student")

    page = client.get(f"/samples/{sample.code}")
    assert f'hx-get="/samples/{sample.code}/name-check"' in page.text  # before the confirmation
    assert page.text.index('id="name-check"') < page.text.index("Confirm: no names visible")
    found = client.get(f"/samples/{sample.code}/name-check", headers=HX)
    assert found.status_code == 200
    html = found.text
    assert "Names were found in the work." in html
    assert "&lt;b&gt;Essay&lt;/b&gt; by <mark>JANE student</mark>" in html
    assert "“Jane Student”</strong> (the student&#39;s name), found 1 time" in html
    assert "“Jane”</strong> (the student&#39;s name), found 1 time" in html  # not "Janet"
    assert "“Okafor”</strong> (your name)" in html and "<mark>Okafor</mark>&#39;s" in html
    assert "“Riverbend”</strong> (the school&#39;s name)" in html
    assert "Elementary" not in html
    assert "<b>" not in html
    # The typed identity never reaches the audit log.
    with app.app_context():
        details = [json.dumps(e.details) for e in db.session.execute(
            db.select(AuditEvent)).scalars()]
    assert not any("Jane" in d for d in details)


def test_pdf_text_layers_are_searched_per_page_and_a_scanned_page_is_named_unsearched(
        app, client, auth, uploader, create_rubric, post_upload):
    school, _ = uploader(client, auth)
    version = create_rubric(school.district_id, criteria=2)
    sample = _upload(app, client, post_upload, school, version, "essay.pdf",
                     pdf_with_a_scanned_page("Recess essay by José Núñez"),
                     student_name="Jose Nunez")

    html = client.get(f"/samples/{sample.code}/name-check", headers=HX).text
    assert "“Jose Nunez”</strong> (the student&#39;s name), found 1 time on page 1" in html
    assert "<mark>José Núñez</mark>" in html
    assert "Page 2 could not be searched:</strong> it has no text layer" in html
    assert "Check it by eye." in html


def test_an_image_says_it_could_not_be_searched(
        app, client, auth, uploader, create_rubric, post_upload):
    school, _ = uploader(client, auth)
    version = create_rubric(school.district_id, criteria=2)
    sample = _upload(app, client, post_upload, school, version, "scan.png", png_bytes())
    html = client.get(f"/samples/{sample.code}/name-check").text  # a page of its own
    assert "This image could not be searched:</strong> a scan or photo has no text" in html
    assert "Black out names" in html


# --- redaction --------------------------------------------------------------------------------

def _redact(client, auth, sample, number=1, boxes=(), **typed):
    token = auth.csrf_token(f"/samples/{sample.code}/redact")
    data = {f"p{number}-csrf_token": token, f"p{number}-box": list(boxes),
            **{f"p{number}-{k}": v for k, v in typed.items()}}
    return client.post(f"/samples/{sample.code}/pages/{number}/redact", data=data)


def _pixels(app, key) -> Image.Image:
    return Image.open(io.BytesIO(app.extensions["storage"].open(key))).convert("RGB")


def test_a_box_is_burned_into_the_stored_image_and_the_original_is_gone(
        app, client, auth, uploader, create_rubric, post_upload):
    school, _ = uploader(client, auth)
    version = create_rubric(school.district_id, criteria=2)
    sample = _upload(app, client, post_upload, school, version, "scan.png", png_bytes((200, 100)))
    assert 'class="redact-overlay"' in client.get(f"/samples/{sample.code}/redact").text

    response = _redact(client, auth, sample, boxes=["0.25,0.5,0.5,0.25"])
    assert response.status_code == 302
    redacted = _reload(app, sample)
    assert redacted.storage_key != sample.storage_key
    image = _pixels(app, redacted.storage_key)
    assert image.size == (200, 100)
    for x in range(200):
        for y in range(100):
            inside = 50 <= x < 150 and 50 <= y < 75
            assert image.getpixel((x, y)) == ((0, 0, 0) if inside else (40, 90, 200)), (x, y)
    with pytest.raises(StorageError):
        app.extensions["storage"].open(sample.storage_key)
    shown = client.get(f"/samples/{sample.code}/image?v={redacted.image_version}")
    assert Image.open(io.BytesIO(shown.data)).convert("RGB").getpixel((100, 60)) == (0, 0, 0)
    assert f"v={redacted.image_version}" in client.get(f"/samples/{sample.code}").text

    # The same box again changes nothing: no new object, no second audit event.
    again = _redact(client, auth, sample, boxes=["0.25,0.5,0.5,0.25"])
    assert again.status_code == 302
    assert _reload(app, sample).storage_key == redacted.storage_key
    assert "already had those parts blacked out" in client.get(again.headers["Location"]).text
    with app.app_context():
        events = db.session.execute(db.select(AuditEvent).where(
            AuditEvent.action == "sample_redacted")).scalars().all()
        assert [e.details for e in events] == [{"code": sample.code, "page": 1, "boxes": 1}]


def test_a_redacted_pdf_downloads_rebuilt_from_its_page_images(
        app, client, auth, uploader, create_rubric, post_upload):
    school, _ = uploader(client, auth)
    version = create_rubric(school.district_id, criteria=2)
    sample = _upload(app, client, post_upload, school, version, "essay.pdf",
                     text_pdf("Written by Jane Student", pages=2))
    first, second = sample.pages

    response = _redact(client, auth, sample, boxes=["0.05,0.05,0.6,0.1"], left="10", top="50",
                       width="20", height="5")  # one drawn box and one typed
    assert response.status_code == 302
    redacted = _reload(app, sample)
    page1, page2 = redacted.pages
    assert page1.storage_key != first.storage_key and page2.storage_key == second.storage_key
    image = _pixels(app, page1.storage_key)
    before = _pixels(app, second.storage_key)  # page 2 is untouched, same size, same layout
    w, h = image.size
    assert image.crop((int(0.05 * w) + 1, int(0.05 * h) + 1, int(0.65 * w) - 1,
                       int(0.15 * h) - 1)).getextrema() == ((0, 0),) * 3
    assert image.crop((int(0.1 * w) + 1, int(0.5 * h) + 1, int(0.3 * w) - 1,
                       int(0.55 * h) - 1)).getextrema() == ((0, 0),) * 3
    assert image.getpixel((w - 5, h - 5)) == before.getpixel((w - 5, h - 5)) == (255, 255, 255)

    assert redacted.storage_key != sample.storage_key
    for old in (sample.storage_key, first.storage_key):
        with pytest.raises(StorageError):
            app.extensions["storage"].open(old)
    link = client.get(f"/samples/{sample.code}/download").headers["Location"]
    with client.get(link) as download:
        data = download.data
    assert b"Jane" not in data
    document = pdfium.PdfDocument(data)
    assert len(document) == 2
    assert [document[i].get_textpage().get_text_range().strip() for i in range(2)] == ["", ""]
    rendered = document[0].render(scale=w / document[0].get_width()).to_pil().convert("RGB")
    assert rendered.getpixel((int(0.3 * w), int(0.1 * h)))[0] < 40  # the box is in the file
    assert redacted.size == len(data)
    document.close()

    html = client.get(f"/samples/{sample.code}/name-check").text
    assert "Pages 1, 2 could not be searched:" in html


@pytest.mark.parametrize("boxes,typed,message", [
    (["0.5,0.5,0.6,0.1"], {}, "A box must lie inside the page"),
    (["-0.1,0,0.2,0.2"], {}, "A box must lie inside the page"),
    (["0.1,0.1,0,0.2"], {}, "A box needs a width and a height above zero."),
    (["0.1,0.1,nan,0.2"], {}, "must be numbers"),
    (["1,2,3"], {}, "did not arrive as four numbers"),
    (["a,b,c,d"], {}, "did not arrive as four numbers"),
    (["0.1,0.1,0.1,0.1"] * 41, {}, "At most 40 boxes"),
    ([], {}, "Draw a box over each name first"),
    ([], {"left": "10", "top": "10"}, "all four numbers"),
    ([], {"left": "10", "top": "10", "width": "abc", "height": "5"}, "Not a valid float"),
    ([], {"left": "90", "top": "10", "width": "20", "height": "5"}, "inside the page"),
])
def test_bad_boxes_are_refused_with_a_message_and_nothing_changes(
        app, client, auth, uploader, create_rubric, post_upload,
        boxes, typed, message):
    school, _ = uploader(client, auth)
    version = create_rubric(school.district_id, criteria=2)
    sample = _upload(app, client, post_upload, school, version, "scan.png", png_bytes())
    response = _redact(client, auth, sample, boxes=boxes, **typed)
    assert response.status_code == 422
    assert message in response.text
    assert _reload(app, sample).storage_key == sample.storage_key


def test_redaction_refuses_a_missing_page_text_and_other_users(
        app, client, auth, uploader, create_rubric, post_upload,
        create_teacher):
    school, _ = uploader(client, auth)
    version = create_rubric(school.district_id, criteria=2)
    sample = _upload(app, client, post_upload, school, version, "essay.pdf", text_pdf())
    assert _redact(client, auth, sample, number=7, boxes=["0,0,.1,.1"]).status_code == 422
    text = _upload(app, client, post_upload, school, version, "essay.txt", b"Just words.")
    assert client.get(f"/samples/{text.code}/redact").status_code == 404
    assert _redact(client, auth, text, boxes=["0,0,.1,.1"]).status_code == 422

    auth.logout()
    auth.login(create_teacher(school=school))  # a colleague: not the uploader
    assert client.get(f"/samples/{sample.code}/redact").status_code == 403
    assert _redact(client, auth, sample, boxes=["0,0,.1,.1"]).status_code == 403


# --- the rubric the form starts on ---------------------------------------------------------

def test_the_upload_form_starts_on_a_rubric_for_the_schools_grade_band(
        app, client, auth, uploader, create_rubric):
    school, _ = uploader(client, auth, grade_band="K-5")
    high = create_rubric(school.district_id, criteria=2)  # 9-10, listed first
    elementary = create_rubric(school.district_id, criteria=2)
    with app.app_context():
        from rubrics.models import Rubric, RubricVersion

        rows = {v.id: v for v in db.session.execute(db.select(RubricVersion)).scalars()}
        rows[high.id].rubric.title = "A Argumentative Writing"
        rows[elementary.id].rubric.title = "B Opinion Writing"
        rows[elementary.id].rubric.grade_band = "4-5"
        db.session.commit()
        assert db.session.scalar(db.select(db.func.count(Rubric.id))) == 2
    page = client.get("/samples/new").text
    assert f'<option selected value="{elementary.id}">' in page
    assert f'<option value="{high.id}">' in page
    assert f'<option selected value="{school.id}">' in page
    assert f'<option selected value="{elementary.id}">' in client.get(
        "/samples/new/class-set").text


# --- class sets -------------------------------------------------------------------------------

def test_a_class_set_keeps_the_good_files_lists_the_bad_one_and_names_each_student(
        app, client, auth, uploader, create_rubric):
    school, _ = uploader(client, auth)
    version = create_rubric(school.district_id, criteria=2)
    token = auth.csrf_token("/samples/new/class-set")
    files = [(io.BytesIO(png_bytes()), "ada.png"), (io.BytesIO(b"Bea's essay."), "bea.txt"),
             (io.BytesIO(b"\x00\x01 not a pdf"), "cal_lopez.pdf"),
             (io.BytesIO(text_pdf("Dev wrote this")), "dev.pdf")]
    response = client.post("/samples/new/class-set", content_type="multipart/form-data", data={
        "csrf_token": token, "school_id": school.id, "rubric_version_id": version.id,
        "title": "Opinion piece", "files": files})
    assert response.status_code == 200
    assert "3 files uploaded; 1 could not be taken." in response.text
    assert "<strong>cal_lopez.pdf</strong>: This file is not a PDF" in response.text
    with app.app_context():
        samples = db.session.execute(db.select(WorkSample).order_by(WorkSample.id)
                                     ).scalars().all()
        assert [s.kind.value for s in samples] == ["png", "text", "pdf"]
        assert {s.title for s in samples} == {"Opinion piece"}
        codes = [s.code for s in samples]
    for code, name in zip(codes, ["ada.png", "bea.txt", "dev.pdf"], strict=True):
        assert f'id="student-{code}"' in response.text
        assert name in response.text

    # The confirmation waits for the student.
    refused = client.post(f"/samples/{codes[0]}/confirm", data={
        "csrf_token": token, "confirmed": "y"})
    assert refused.status_code == 422
    assert "Enter whose work this is first" in refused.text

    row = client.post(f"/samples/{codes[0]}/student", headers={
        "HX-Request": "true", "HX-Target": f"student-{codes[0]}"}, data={
        f"{codes[0]}-csrf_token": token, f"{codes[0]}-student_name": "Ada Byron"})
    assert row.status_code == 200
    assert row.text.lstrip().startswith(f'<li id="student-{codes[0]}"')
    assert "Saved." in row.text
    empty = client.post(f"/samples/{codes[1]}/student", headers={"HX-Request": "true"},
                        data={f"{codes[1]}-csrf_token": token})
    assert empty.status_code == 422 and "Enter the student&#39;s name or local ID" in empty.text

    listing = client.get("/samples/students").text
    assert f'id="student-{codes[0]}"' not in listing and f'id="student-{codes[1]}"' in listing
    html = client.get(f"/samples/{codes[0]}/name-check").text
    assert "This image could not be searched" in html
    assert client.post(f"/samples/{codes[0]}/confirm", data={
        "csrf_token": token, "confirmed": "y"}).status_code == 302
    with app.app_context():
        assert db.session.get(WorkSample, samples[0].id).status == SampleStatus.READY
        assert db.session.scalar(db.select(db.func.count(SamplePage.id))) == 1


def test_a_class_set_over_the_file_limit_is_refused_whole(
        app, client, auth, uploader, create_rubric):
    school, _ = uploader(client, auth)
    version = create_rubric(school.district_id, criteria=2)
    files = [(io.BytesIO(b"Essay %d" % i), f"{i}.txt") for i in range(41)]
    response = client.post("/samples/new/class-set", content_type="multipart/form-data", data={
        "csrf_token": auth.csrf_token("/samples/new/class-set"), "school_id": school.id,
        "rubric_version_id": version.id, "title": "Opinion piece", "files": files})
    assert response.status_code == 422
    assert "41 files were chosen; a class set can have at most 40." in response.text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(WorkSample.id))) == 0
