"""The statistics package stays pure: importing it loads no web framework or database layer."""

import subprocess
import sys

import pytest


@pytest.mark.slow   # a fresh interpreter imports numpy, pandas and scipy
def test_importing_statistics_loads_neither_flask_nor_sqlalchemy():
    check = ("import sys, moderation.statistics, moderation.statistics.__main__\n"
             "loaded = sorted({name.split('.')[0] for name in sys.modules}"
             " & {'flask', 'sqlalchemy', 'flask_sqlalchemy'})\n"
             "print(','.join(loaded))")

    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                          check=True)

    assert done.stdout.strip() == ""
