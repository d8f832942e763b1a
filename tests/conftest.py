from __future__ import annotations

import os
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
def demo_run(tmp_path_factory) -> DemoRun:
    """`survey demo` run once through the CLI, for the tests that inspect its output."""
    from click.testing import CliRunner

    from survey.cli import cli

    from survey.demo import load_sample

    root = tmp_path_factory.mktemp("demo") / "scan"
    result = CliRunner().invoke(cli, ["demo", "--out", str(root)])
    return DemoRun(root / load_sample().wave, result.output, result.exit_code)  # the last wave


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
