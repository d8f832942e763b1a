from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def demo_result(tmp_path_factory):
    """The whole demo pipeline, run once for the tests that inspect its output."""
    from survey.demo import run_demo

    return run_demo(tmp_path_factory.mktemp("demo") / "scan")


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
