"""Every `flask` and `python -m` command the README shows works exactly as printed in a checkout
where `make run` has written `.flaskenv`; without APP_ENV the app still refuses to start in
production mode without a SECRET_KEY.

The commands run in order, in a copy of the checkout's layout (links to its code, a fresh
instance folder, the `.flaskenv` the Makefile writes) against a temporary SQLite database that
was migrated and seeded. `make`, the benchmarks and lines with placeholders (`...`) are skipped:
they are not for copying as they stand.
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CODE = ["app.py", "moderation", "rubrics", "seed_data", "migrations", "static", "templates"]
RUNNABLE = ("flask ", "python -m ", ".venv/bin/flask ", ".venv/bin/python -m ")

pytestmark = pytest.mark.slow  # migrates, seeds and starts a dozen interpreters


def readme_commands() -> list[str]:
    blocks = re.findall(r"```(?:sh|bash)\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    lines = " ".join(blocks).replace("\\\n", " ").splitlines()
    return [line.split("  #")[0].strip() for line in (line.strip() for line in lines)
            if line.startswith(RUNNABLE) and "..." not in line]


def makefile_flaskenv() -> str:
    """What `make run` writes into .flaskenv, read from the Makefile's recipe."""
    recipe = (ROOT / "Makefile").read_text().split(".flaskenv:\n", 1)[1]
    return re.search(r'echo "([^"]+)" > \$@', recipe).group(1) + "\n"


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    here = tmp_path_factory.mktemp("checkout")
    for name in CODE:
        (here / name).symlink_to(ROOT / name)
    (here / ".venv").symlink_to(Path(sys.executable).parents[1])
    (here / ".flaskenv").write_text(makefile_flaskenv())
    return here


def run(command: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    args = shlex.split(command)
    if args[0] in ("flask", "python"):  # as after `source .venv/bin/activate`
        args[0] = str(cwd / ".venv" / "bin" / args[0])
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("APP_ENV", "SECRET_KEY", "DATABASE_URL", "FLASK_APP")}
    return {**env, **extra}


def test_the_readme_shows_commands_to_copy():
    commands = readme_commands()
    assert any("rubrics import" in c for c in commands)
    assert any("moderation.statistics analyze" in c for c in commands)


def test_every_readme_command_runs_as_printed(checkout):
    env = clean_env(DATABASE_URL=f"sqlite:///{checkout / 'readme.sqlite3'}",
                    STORAGE_LOCAL_PATH=str(checkout / "storage"))
    for setup in (".venv/bin/flask --app app db upgrade", ".venv/bin/flask --app app seed-demo"):
        done = run(setup, checkout, env)
        assert done.returncode == 0, done.stderr
    for command in readme_commands():
        done = run(command, checkout, env)
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"


def test_help_lists_the_project_commands(checkout):
    done = run("flask --app app --help", checkout, clean_env())

    assert done.returncode == 0, done.stderr
    for command in ("seed-demo", "rubrics", "audit", "db"):
        assert re.search(rf"^\s+{command}\s", done.stdout, re.M), done.stdout


def test_without_app_env_the_app_refuses_to_start_without_a_secret_key(tmp_path):
    for name in CODE:
        (tmp_path / name).symlink_to(ROOT / name)
    done = subprocess.run([sys.executable, "-c", "from app import create_app; create_app()"],
                          cwd=tmp_path, env=clean_env(), capture_output=True, text=True,
                          timeout=120)

    assert done.returncode != 0
    assert "SECRET_KEY is not set. Production mode needs a long random SECRET_KEY" in done.stderr
