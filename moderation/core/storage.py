"""Where uploaded files live: one interface, three backends (indico's storage, CTFd's uploader).

- ``LocalStorage`` (the default): files under STORAGE_LOCAL_PATH (instance/storage). Downloads go
  through the app: url_for_download() returns a short-lived signed link to ``storage.download``,
  valid only for the logged-in user it was issued to, so the route checks who asks.
- ``S3Storage`` (STORAGE_BACKEND=s3): any S3 endpoint through boto3, objects written with
  server-side encryption; downloads by short-lived presigned URL.
- ``MemoryStorage``: a dict, for tests.

Keys are random and never derived from names; callers keep the key, size, content type and
checksum that save() returns. Page images are NOT handed out by URL: the views stream them
through the app after their permission check (send_stored, never cached), so the CSP keeps
img-src 'self' whatever backend is configured.

Storage is not transactional, the database is: a service that saves objects calls
discard_on_rollback() so a failed transaction leaves no orphans, and one that removes objects
calls delete_after_commit() so a failed transaction loses no file.
"""

import hashlib
import io
import re
import secrets
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from flask import Blueprint, Flask, abort, current_app, send_file, url_for
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import event
from sqlalchemy.orm import Session

from moderation.core.extensions import db

KEY_PATTERN = re.compile(r"^[0-9a-f]{32}$")
BACKENDS = ("local", "s3", "memory")
DEFAULT_EXPIRY = timedelta(minutes=5)


class StorageError(RuntimeError):
    """The storage backend could not do what was asked (missing object, bad configuration)."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    content_type: str
    checksum_sha256: str


def new_key() -> str:
    return secrets.token_hex(16)


def _read_all(data: bytes | BinaryIO) -> bytes:
    return data if isinstance(data, bytes | bytearray) else data.read()


def _described(key: str, data: bytes, content_type: str) -> StoredObject:
    return StoredObject(key=key, size=len(data), content_type=content_type,
                        checksum_sha256=hashlib.sha256(data).hexdigest())


def _seconds(expires: timedelta | int | None) -> int:
    if expires is None:
        expires = DEFAULT_EXPIRY
    return int(expires.total_seconds()) if isinstance(expires, timedelta) else int(expires)


class Storage(ABC):
    """save / open / delete / url_for_download; every backend behaves the same to its callers."""

    @abstractmethod
    def save(self, data: bytes | BinaryIO, content_type: str) -> StoredObject:
        """Store `data` under a new random key."""

    @abstractmethod
    def open(self, key: str) -> bytes:
        """The object's bytes; StorageError if there is none."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; a missing object is not an error."""

    def url_for_download(self, key: str, filename: str | None = None,
                         expires: timedelta | int | None = None) -> str:
        """A short-lived link that downloads the object as an attachment named `filename`.

        The caller checks permission first. By default the link goes through the app (see
        download() below) and only works for the user it was issued to.
        """
        token = _serializer().dumps({"k": key, "f": filename, "u": _user_id(),
                                     "s": _seconds(expires)})
        return url_for("storage.download", token=token)


class LocalStorage(Storage):
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not KEY_PATTERN.match(key):
            raise StorageError(f"Not a storage key: {key!r}")
        return self.root / key[:2] / key

    def save(self, data, content_type):
        body = _read_all(data)
        key = new_key()
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(body)
        partial.replace(path)  # readers never see half a file
        return _described(key, body, content_type)

    def open(self, key):
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as error:
            raise StorageError(f"No stored object {key}") from error

    def delete(self, key):
        self._path(key).unlink(missing_ok=True)


class MemoryStorage(Storage):
    def __init__(self):
        self.objects: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def save(self, data, content_type):
        body = bytes(_read_all(data))
        key = new_key()
        with self._lock:
            self.objects[key] = body
        return _described(key, body, content_type)

    def open(self, key):
        try:
            return self.objects[key]
        except KeyError as error:
            raise StorageError(f"No stored object {key}") from error

    def delete(self, key):
        with self._lock:
            self.objects.pop(key, None)


class S3Storage(Storage):
    """Any S3-compatible endpoint. Credentials come from the standard AWS environment variables
    (or an instance role); the bucket must exist. Keys stored in the database include the prefix,
    so changing S3_PREFIX later does not lose older objects."""

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None,
                 region: str | None = None, presign_seconds: int = 300):
        import boto3
        from botocore.config import Config

        if not bucket:
            raise StorageError("STORAGE_BACKEND=s3 needs S3_BUCKET.")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.presign_seconds = presign_seconds
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url or None, region_name=region or None,
            config=Config(signature_version="s3v4", retries={"max_attempts": 3}))

    def save(self, data, content_type):
        body = _read_all(data)
        stored = _described(self.prefix + new_key(), body, content_type)
        self.client.put_object(Bucket=self.bucket, Key=stored.key, Body=body,
                               ContentType=content_type, ServerSideEncryption="AES256")
        return stored

    def open(self, key):
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.NoSuchKey as error:
            raise StorageError(f"No stored object {key}") from error
        with response["Body"] as body:
            return body.read()

    def delete(self, key):
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def url_for_download(self, key, filename=None, expires=None):
        params = {"Bucket": self.bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = _attachment(filename)
        seconds = self.presign_seconds if expires is None else _seconds(expires)
        return self.client.generate_presigned_url("get_object", Params=params,
                                                  ExpiresIn=seconds)


def _attachment(filename: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    return f'attachment; filename="{safe}"'


def build_storage(config) -> Storage:
    """The backend the configuration names."""
    backend = config.get("STORAGE_BACKEND", "local")
    if backend == "local":
        return LocalStorage(config["STORAGE_LOCAL_PATH"])
    if backend == "memory":
        return MemoryStorage()
    if backend == "s3":
        return S3Storage(config.get("S3_BUCKET", ""), config.get("S3_PREFIX", ""),
                         config.get("S3_ENDPOINT_URL"), config.get("S3_REGION"),
                         int(config.get("S3_PRESIGN_SECONDS", 300)))
    raise StorageError(f"STORAGE_BACKEND must be one of {', '.join(BACKENDS)}; got {backend!r}.")


def init_app(app: Flask) -> None:
    app.extensions["storage"] = build_storage(app.config)
    app.register_blueprint(bp)


def get_storage() -> Storage:
    return current_app.extensions["storage"]


# --- keeping storage in step with the database transaction -------------------------------------

_PENDING = "storage_pending"


def discard_on_rollback(storage: Storage, keys: list[str]) -> None:
    """Delete these freshly saved objects if the current transaction rolls back."""
    _pending().extend((storage, key, "rollback") for key in keys)


def delete_after_commit(storage: Storage, keys: list[str]) -> None:
    """Delete these objects once the current transaction has committed."""
    _pending().extend((storage, key, "commit") for key in keys)


def _pending() -> list:
    return db.session().info.setdefault(_PENDING, [])


def _settle(session: Session, outcome: str) -> None:
    for storage, key, when in session.info.pop(_PENDING, []):
        if when == outcome:
            try:
                storage.delete(key)
            except Exception:  # a leftover object must not undo what the database settled
                current_app.logger.exception("Could not delete stored object %s", key)


@event.listens_for(Session, "after_commit")
def _after_commit(session):
    _settle(session, "commit")


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session, transaction):
    # Reached without a commit (rollback, or the session closed at the end of the request).
    if transaction.parent is None:
        _settle(session, "rollback")


# --- downloads through the app (local and memory backends) -------------------------------------

bp = Blueprint("storage", __name__)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="storage-download")


def _user_id() -> int | None:
    return current_user.id if current_user and current_user.is_authenticated else None


@bp.get("/files/<token>")
@login_required
def download(token: str):
    serializer = _serializer()
    try:
        _, payload = serializer.loads_unsafe(token)
        claims = serializer.loads(token, max_age=int(payload["s"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        abort(404)
    if claims["u"] != current_user.id:
        abort(403)
    return send_stored(claims["k"], "application/octet-stream", as_attachment=True,
                       download_name=claims["f"] or "download")


def send_stored(key: str, mimetype: str, **send_file_options):
    """The stored object as a response, or 404 when it is gone. Student work is never kept in
    a browser's or proxy's cache: the next person at a shared computer could open it."""
    try:
        body = get_storage().open(key)
    except StorageError:
        abort(404)
    response = send_file(io.BytesIO(body), mimetype=mimetype, **send_file_options)
    response.headers["Cache-Control"] = "private, no-store"
    return response
