"""The local and memory backends keep bytes under random keys and describe what they stored."""

import hashlib
import io

import pytest

from moderation.core.storage import (
    KEY_PATTERN,
    LocalStorage,
    MemoryStorage,
    StorageError,
    build_storage,
)


@pytest.fixture(params=["local", "memory"])
def storage(request, tmp_path):
    return LocalStorage(tmp_path / "store") if request.param == "local" else MemoryStorage()


def test_save_open_delete_round_trip(storage):
    data = b"%PDF-1.7 a student's essay"
    stored = storage.save(data, "application/pdf")
    assert stored.size == len(data)
    assert stored.content_type == "application/pdf"
    assert stored.checksum_sha256 == hashlib.sha256(data).hexdigest()
    assert storage.open(stored.key) == data
    storage.delete(stored.key)
    with pytest.raises(StorageError):
        storage.open(stored.key)
    storage.delete(stored.key)  # deleting twice is harmless


def test_keys_are_random_and_never_from_names(storage):
    first = storage.save(io.BytesIO(b"same"), "text/plain")
    second = storage.save(b"same", "text/plain")
    assert first.key != second.key
    assert KEY_PATTERN.match(first.key) and KEY_PATTERN.match(second.key)


def test_local_storage_refuses_paths_that_are_not_keys(tmp_path):
    storage = LocalStorage(tmp_path)
    (tmp_path / "secret.txt").write_text("not yours")
    with pytest.raises(StorageError):
        storage.open("../secret.txt")


def test_config_picks_the_backend(tmp_path):
    assert isinstance(build_storage({"STORAGE_BACKEND": "memory"}), MemoryStorage)
    local = build_storage({"STORAGE_BACKEND": "local", "STORAGE_LOCAL_PATH": str(tmp_path)})
    assert isinstance(local, LocalStorage) and local.root == tmp_path
    with pytest.raises(StorageError, match="STORAGE_BACKEND must be one of"):
        build_storage({"STORAGE_BACKEND": "ftp"})
    with pytest.raises(StorageError, match="S3_BUCKET"):
        build_storage({"STORAGE_BACKEND": "s3", "S3_BUCKET": ""})
