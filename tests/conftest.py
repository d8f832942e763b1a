from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


@dataclass
class DemoRun:
    folder: Path  # the demo's last wave (its earlier wave is beside it)
    output: str  # what `survey demo` printed
    exit_code: int

    def copy(self, to: Path, ignore=None) -> Path:
        """A copy of both waves under `to` (a wave's folder alone would miss the earlier wave it
        links to); returns the copied last wave."""
        shutil.copytree(self.folder.parent, to, ignore=ignore)
        return to / self.folder.name

    @property
    def html(self) -> Path:
        return self.folder / "output" / "report.html"

    @property
    def pdf(self) -> Path:
        return self.folder / "output" / "report.pdf"

    @property
    def workbook(self) -> Path:
        return self.folder / "output" / "results.xlsx"


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory, worker_id) -> DemoRun:
    """`survey demo` run once through the CLI, for the tests that inspect its output. With
    pytest-xdist the workers share one run (the first builds it under a lock, the others read
    it): the two-wave demo is the suite's largest set-up."""
    import json

    from click.testing import CliRunner
    from filelock import FileLock

    from survey.cli import cli
    from survey.demo import load_sample

    base = tmp_path_factory.getbasetemp()
    if worker_id != "master":  # every worker's base is inside the run's own folder
        base = base.parent
    root, record = base / "demo-shared" / "scan", base / "demo-shared.json"
    with FileLock(str(base / "demo-shared.lock")):
        if not record.is_file():
            result = CliRunner().invoke(cli, ["demo", "--out", str(root)])
            record.write_text(json.dumps({"output": result.output, "exit_code": result.exit_code}))
        ran = json.loads(record.read_text())
    return DemoRun(root / load_sample().wave, ran["output"], ran["exit_code"])  # the last wave


@pytest.fixture
def write_yaml(tmp_path):
    def write(text: str, name: str = "q.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path
    return write


def corpus_dir(name: str) -> Path:
    folder = Path(os.environ.get("SURVEY_CORPUS", CORPUS)) / name
    if not folder.is_dir():
        pytest.skip(f"corpus folder {folder} is absent")
    return folder
