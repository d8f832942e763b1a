"""The built wheel, installed in a fresh environment, runs the demo outside the checkout."""

from __future__ import annotations

import subprocess
import sys
import venv

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_installed_wheel_runs_demo_outside_checkout(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)], check=True,
                   capture_output=True)
    [wheel] = dist.glob("*.whl")
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    survey = env_dir / "bin" / "survey"
    run = subprocess.run([str(survey), "demo", "--out", "demo"], check=False, cwd=work, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr + run.stdout
    assert (work / "demo" / "2026" / "output" / "report.pdf").stat().st_size > 10_000
    assert (work / "demo" / "2025" / "output" / "report.html").is_file()
    # the installed package found its content inside the wheel, not in the checkout
    where = subprocess.run([str(python), "-c", "import survey.resources as r; print(r.questionnaires_dir())"],
                           cwd=work, capture_output=True, text=True, check=True).stdout
    assert str(ROOT) not in where and "_content" in where
