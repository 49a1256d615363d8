"""A digest of code as it is on disk, for results stored with the code that made them.

A stored analysis run is reused for the same input, and a stored chart for the same data; both
must also be made by the same code, released or not, or a deploy that changes the statistics or
the charts would keep showing what the old code made. Pure: no Flask.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

# The files whose content makes a result: the code and the report schema beside it.
SUFFIXES = (".py", ".json")


@cache
def source_digest(*paths: str) -> str:
    """12 hex digits over the files (or every .py and .json file under the directories) named,
    by their names relative to the first path's directory and their bytes."""
    files = sorted(file for path in map(Path, paths)
                   for file in (path.rglob("*") if path.is_dir() else (path,))
                   if file.suffix in SUFFIXES and file.is_file())
    base = Path(paths[0]).parent
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.relative_to(base).as_posix().encode() + b"\0")
        digest.update(file.read_bytes())
    return digest.hexdigest()[:12]
