"""Atomic writes: a full disk or a failing writer never leaves a truncated file."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from survey.atomic import atomic_path, write_bytes_atomic, write_text_atomic
from survey.errors import ReportError

OLD = b"<html>the report of last week</html>"


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "report.html"
    path.write_bytes(OLD)
    return path


def only(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


def test_writes_replace_the_content(report: Path):
    write_bytes_atomic(report, b"new" * 100_000)
    assert report.read_bytes() == b"new" * 100_000
    write_text_atomic(report, "Résumé ✓")
    assert report.read_text(encoding="utf-8") == "Résumé ✓"
    assert only(report) == ["report.html"]


def test_disk_full_while_writing_keeps_the_old_file(report: Path, monkeypatch):
    real_write = os.write
    calls = []

    def write_then_fill_disk(fd: int, data) -> int:
        calls.append(fd)
        if len(calls) == 1:  # part of the file gets written, then the disk is full
            return real_write(fd, bytes(data[:10]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", write_then_fill_disk)
    with pytest.raises(ReportError) as caught:
        write_bytes_atomic(report, b"x" * 1000)
    monkeypatch.undo()
    assert len(calls) == 2
    assert caught.value.message == (
        f"{report}: the disk is full, the file was not written. Free space and run again"
    )
    assert report.read_bytes() == OLD
    assert only(report) == ["report.html"]


def test_disk_full_on_a_new_file_leaves_nothing(tmp_path: Path, monkeypatch):
    target = tmp_path / "report.pdf"

    def no_space(fd: int, data) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", no_space)
    with pytest.raises(ReportError, match="the disk is full"):
        write_bytes_atomic(target, b"%PDF-")
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_disk_full_seen_only_at_flush(report: Path, monkeypatch):
    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(ReportError, match="Free space and run again"):
        write_text_atomic(report, "new")
    monkeypatch.undo()
    assert report.read_bytes() == OLD
    assert only(report) == ["report.html"]


def test_atomic_path_for_writers_that_take_a_path(report: Path):
    with atomic_path(report) as temporary:
        assert temporary.parent == report.parent and temporary != report
        temporary.write_text("written by a library")
        assert report.read_bytes() == OLD  # nothing visible before the end
    assert report.read_text() == "written by a library"
    assert only(report) == ["report.html"]


def test_a_failing_writer_leaves_the_old_file(report: Path):
    with pytest.raises(RuntimeError, match="chart failed"):
        with atomic_path(report) as temporary:
            temporary.write_bytes(b"half a rep")
            raise RuntimeError("chart failed")
    assert report.read_bytes() == OLD
    assert only(report) == ["report.html"]
    # A full disk met by the writer's own code is explained too.
    with pytest.raises(ReportError, match="the disk is full"):
        with atomic_path(report) as temporary:
            raise OSError(errno.ENOSPC, "No space left on device")
    # But a permission error in the writer may concern another file: left as it is.
    with pytest.raises(PermissionError):
        with atomic_path(report) as temporary:
            raise PermissionError(errno.EACCES, "Permission denied", "/some/input.yaml")
    assert report.read_bytes() == OLD
    assert only(report) == ["report.html"]


def test_read_only_folder(report: Path, monkeypatch):
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "replace", read_only)
    with pytest.raises(ReportError) as caught:
        write_text_atomic(report, "new")
    monkeypatch.undo()
    expected = f"{report}: cannot write to {report.parent}: it is read-only."
    assert caught.value.message.startswith(expected)
    assert report.read_bytes() == OLD
    assert only(report) == ["report.html"]


def test_no_permission_to_create(report: Path, monkeypatch):
    real_open = os.open

    def denied(path, flags, *args, **kwargs):
        if flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(ReportError, match=f"cannot write to {report.parent}: permission denied"):
        write_text_atomic(report, "new")
    monkeypatch.undo()
    assert report.read_bytes() == OLD


def test_a_replaced_file_keeps_its_permissions(report: Path):
    report.chmod(0o640)
    write_text_atomic(report, "new")
    assert stat.S_IMODE(report.stat().st_mode) == 0o640
