"""Published values, reproduced through analyze() and the command line.

The two tables are in tests/reference (its README gives the sources and values):
Krippendorff, Computing Krippendorff's Alpha-Reliability (2011), the 4 observers x 12 units
example with missing values; Shrout & Fleiss (1979), 6 targets x 4 judges.
"""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from moderation.statistics import analyze

REFERENCE = Path(__file__).resolve().parents[2] / "reference"
KRIPPENDORFF_2011 = (REFERENCE / "krippendorff_2011.csv").read_text()
SHROUT_FLEISS_1979 = (REFERENCE / "shrout_fleiss_1979.csv").read_text()
ALPHA = {"nominal": 0.743421, "ordinal": 0.815388, "interval": 0.849107, "ratio": 0.797403}
ICC = {"ICC1": 0.165742, "ICC2": 0.289764, "ICC3": 0.714841,
       "ICC1k": 0.442797, "ICC2k": 0.620051, "ICC3k": 0.909316}


@pytest.mark.parametrize(("level", "published"), ALPHA.items())
def test_krippendorff_2011_alpha_at_every_level(level, published):
    report = analyze(io.StringIO(KRIPPENDORFF_2011), level=level, bootstrap=0, seed=0)

    (criterion,) = report["criteria"]
    assert criterion["alpha"] == pytest.approx(published, abs=5e-7)
    assert report["overall"]["alpha"] == pytest.approx(published, abs=5e-7)
    assert criterion["n_units"] == 11        # unit 12 has a single value: not pairable


def test_shrout_fleiss_1979_six_icc_forms():
    report = analyze(io.StringIO(SHROUT_FLEISS_1979), bootstrap=0, seed=0)

    icc = report["criteria"][0]["icc"]
    assert {form: icc[form] for form in ICC} == pytest.approx(ICC, abs=5e-7)
    assert icc["method"] == "pingouin (complete crossed design)"


@pytest.mark.slow   # a fresh interpreter imports numpy, pandas, scipy and pingouin
def test_the_command_reproduces_both_tables(tmp_path):
    # One file, two criteria: each criterion is analysed on its own ratings.
    path = tmp_path / "both.csv"
    path.write_text(KRIPPENDORFF_2011 + SHROUT_FLEISS_1979.replace(",C,", ",SF,").split("\n", 1)[1])

    done = subprocess.run([sys.executable, "-m", "moderation.statistics", "analyze", str(path),
                           "--level", "ratio", "--bootstrap", "50", "--seed", "1"],
                          capture_output=True, text=True, check=True)

    kripp, shrout = json.loads(done.stdout)["criteria"]
    assert round(kripp["alpha"], 3) == round(ALPHA["ratio"], 3)
    assert {form: round(shrout["icc"][form], 3) for form in ICC} == {
        form: round(value, 3) for form, value in ICC.items()}
