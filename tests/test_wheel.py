"""The built wheel, installed apart from the checkout, runs the demo outside the checkout."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_installed_wheel_runs_demo_outside_checkout(tmp_path):
    # Built without build isolation and installed without dependencies: the test environment
    # already has them (it was installed from pyproject.toml), and what this test guards is what
    # the wheel carries (questionnaires, templates, sample data), not the registries. `.ci/run`
    # installs the project non-editably from the registries before the tests anyway.
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(ROOT)],
                   check=True, capture_output=True)
    [wheel] = dist.glob("*.whl")
    target = tmp_path / "installed"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
                    "--target", str(target), str(wheel)], check=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    survey = target / "bin" / "survey"  # the console script the wheel declares
    run = subprocess.run([str(survey), "demo", "--out", "demo"], check=False, cwd=work, capture_output=True,
                         text=True, env=env)
    assert run.returncode == 0, run.stderr + run.stdout
    assert (work / "demo" / "2026" / "output" / "report.pdf").stat().st_size > 10_000
    assert (work / "demo" / "2025" / "output" / "report.html").is_file()
    # the installed package found its content inside the wheel, not in the checkout
    where = subprocess.run([sys.executable, "-c", "import survey.resources as r; print(r.questionnaires_dir())"],
                           cwd=work, capture_output=True, text=True, check=True, env=env).stdout
    assert str(ROOT) not in where and str(target) in where and "_content" in where
