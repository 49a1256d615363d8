"""The same upload, display, download and delete flow on the local filesystem and on S3.

S3 is a real server speaking HTTP (moto's server mode on a free local port), so boto3's
requests, server-side encryption and presigned URLs are exercised for real.
"""

import hashlib
import io
import urllib.request

import boto3
import pytest
from PIL import Image

from moderation.core.extensions import db
from moderation.core.storage import S3Storage, StorageError, build_storage
from moderation.samples.models import WorkSample
from tests.fixtures.samples import jpeg_bytes


def _s3(config) -> S3Storage:
    return S3Storage(config["S3_BUCKET"], config["S3_PREFIX"], config["S3_ENDPOINT_URL"],
                     config["S3_REGION"], config["S3_PRESIGN_SECONDS"])


def test_s3_backend_round_trip_with_encryption_and_presigned_download(s3_bucket):
    storage = _s3(s3_bucket)
    data = b"%PDF-1.7 cleaned essay"
    stored = storage.save(io.BytesIO(data), "application/pdf")
    assert stored.key.startswith("work/") and len(stored.key) == len("work/") + 32
    assert stored.checksum_sha256 == hashlib.sha256(data).hexdigest()
    assert storage.open(stored.key) == data

    head = boto3.client("s3", endpoint_url=s3_bucket["S3_ENDPOINT_URL"],
                        region_name="us-east-1").head_object(Bucket=s3_bucket["S3_BUCKET"],
                                                             Key=stored.key)
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ContentType"] == "application/pdf"

    url = storage.url_for_download(stored.key, filename="WS-AAAA-BBBB.pdf")
    assert url.startswith(s3_bucket["S3_ENDPOINT_URL"]) and "X-Amz-Expires=60" in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == data
        assert response.headers["Content-Disposition"] == (
            'attachment; filename="WS-AAAA-BBBB.pdf"')

    storage.delete(stored.key)
    with pytest.raises(StorageError):
        storage.open(stored.key)


@pytest.fixture(params=["local", "s3"])
def backend(request, app, tmp_path):
    """Switch the app under test to the backend; returns a function reading a key back."""
    if request.param == "local":
        config = {"STORAGE_BACKEND": "local", "STORAGE_LOCAL_PATH": str(tmp_path / "files")}
    else:
        config = request.getfixturevalue("s3_bucket")
    app.config.update(config)
    app.extensions["storage"] = build_storage(app.config)
    return request.param


def _fetch(client, url: str) -> bytes:
    """A download link: the app's own route (local) or a presigned S3 URL over HTTP."""
    if url.startswith("/"):
        with client.get(url) as response:
            assert response.status_code == 200
            return response.data
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def test_upload_view_download_and_delete_on_each_backend(
        app, client, auth, backend, create_teacher, create_rubric,
        post_upload):
    teacher = create_teacher()
    with app.app_context():
        from moderation.accounts.models import School

        school = db.session.get(School, teacher.memberships[0].school_id)
        db.session.expunge(school)
    version = create_rubric(school.district_id, criteria=2)
    auth.login(teacher)

    response = post_upload(client, school, version, "IMG_0042.jpg", jpeg_bytes(with_gps=True))
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    code = response.headers["Location"].rsplit("/", 1)[-1]
    assert code in page.text
    with app.app_context():
        sample = db.session.execute(db.select(WorkSample).where(WorkSample.code == code)
                                    ).scalar_one()
        key, checksum = sample.storage_key, sample.checksum_sha256

    shown = client.get(f"/samples/{code}/image")
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg"
    assert "img-src 'self' data: blob:" in page.headers["Content-Security-Policy"]

    link = client.get(f"/samples/{code}/download").headers["Location"]
    assert link.startswith("/files/" if backend == "local" else "http://127.0.0.1:")
    downloaded = _fetch(client, link)
    assert hashlib.sha256(downloaded).hexdigest() == checksum
    assert downloaded == shown.data
    assert dict(Image.open(io.BytesIO(downloaded)).getexif()) == {}

    client.post(f"/samples/{code}/delete",
                data={"csrf_token": auth.csrf_token(f"/samples/{code}")})
    with pytest.raises(StorageError):
        app.extensions["storage"].open(key)
