"""A digest of code on disk: the same files give the same digest, any change to one (or a new
file) another, and compiled caches do not count."""

from moderation.core.source_digest import source_digest


def digest(*paths) -> str:
    source_digest.cache_clear()     # the digest is kept per process; these files change
    return source_digest(*map(str, paths))


def test_the_digest_follows_the_code_and_nothing_else(tmp_path):
    package = tmp_path / "engine"
    (package / "__pycache__").mkdir(parents=True)
    (package / "fit.py").write_text("STEP = 1\n")
    (package / "schema.json").write_text("{}")
    first = digest(package)
    assert digest(package) == first and len(first) == 12

    (package / "__pycache__" / "fit.cpython-313.pyc").write_bytes(b"\x00compiled")
    (package / "notes.txt").write_text("not code")
    assert digest(package) == first

    (package / "schema.json").write_text('{"type": "object"}')
    changed = digest(package)
    assert changed != first
    (package / "extra.py").write_text("")
    assert digest(package) != changed


def test_files_named_one_by_one_are_digested_by_name_and_content(tmp_path):
    (tmp_path / "charts.py").write_text("A = 1\n")
    (tmp_path / "svg.py").write_text("B = 2\n")
    both = digest(tmp_path / "charts.py", tmp_path / "svg.py")
    assert both != digest(tmp_path / "charts.py")
    (tmp_path / "svg.py").write_text("B = 3\n")
    assert digest(tmp_path / "charts.py", tmp_path / "svg.py") != both
