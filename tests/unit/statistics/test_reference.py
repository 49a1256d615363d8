"""Published values, reproduced through analyze() and the command line.

The two tables are copied from shared/reference (their README gives the sources and values):
Krippendorff, Computing Krippendorff's Alpha-Reliability (2011), the 4 observers x 12 units
example with missing values; Shrout & Fleiss (1979), 6 targets x 4 judges.
"""

import io
import json
import subprocess
import sys

import pytest

from moderation.statistics import analyze

KRIPPENDORFF_2011 = """\
rater,sample,criterion,score
A,u1,C,1
A,u2,C,2
A,u3,C,3
A,u4,C,3
A,u5,C,2
A,u6,C,1
A,u7,C,4
A,u8,C,1
A,u9,C,2
B,u1,C,1
B,u2,C,2
B,u3,C,3
B,u4,C,3
B,u5,C,2
B,u6,C,2
B,u7,C,4
B,u8,C,1
B,u9,C,2
B,u10,C,5
B,u12,C,3
C,u2,C,3
C,u3,C,3
C,u4,C,3
C,u5,C,2
C,u6,C,3
C,u7,C,4
C,u8,C,2
C,u9,C,2
C,u10,C,5
C,u11,C,1
D,u1,C,1
D,u2,C,2
D,u3,C,3
D,u4,C,3
D,u5,C,2
D,u6,C,4
D,u7,C,4
D,u8,C,1
D,u9,C,2
D,u10,C,5
D,u11,C,1
"""
SHROUT_FLEISS_1979 = """\
rater,sample,criterion,score
J1,t1,C,9
J2,t1,C,2
J3,t1,C,5
J4,t1,C,8
J1,t2,C,6
J2,t2,C,1
J3,t2,C,3
J4,t2,C,2
J1,t3,C,8
J2,t3,C,4
J3,t3,C,6
J4,t3,C,8
J1,t4,C,7
J2,t4,C,1
J3,t4,C,2
J4,t4,C,6
J1,t5,C,10
J2,t5,C,5
J3,t5,C,6
J4,t5,C,9
J1,t6,C,6
J2,t6,C,2
J3,t6,C,4
J4,t6,C,7
"""
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
