"""The pure packages stay pure: importing them loads no web framework or database layer.

moderation.statistics (the engine and its command line) and moderation.reports' charts and
exports run outside a request: in a job, on a command line, in a notebook.
"""

import subprocess
import sys

import pytest


@pytest.mark.slow   # a fresh interpreter imports numpy, pandas and scipy (and altair)
@pytest.mark.parametrize("modules", [
    "moderation.statistics, moderation.statistics.__main__",
    "moderation.reports.charts, moderation.reports.exports",
    "moderation.reports.audience, moderation.reports.round_report",
])
def test_importing_loads_neither_flask_nor_sqlalchemy(modules):
    check = (f"import sys, {modules}\n"
             "loaded = sorted({name.split('.')[0] for name in sys.modules}"
             " & {'flask', 'sqlalchemy', 'flask_sqlalchemy'})\n"
             "print(','.join(loaded))")

    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                          check=True)

    assert done.stdout.strip() == ""
