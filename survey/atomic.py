"""Write files so that they are either complete or untouched, never truncated.

A report written straight onto its path and interrupted by a full disk (or Ctrl-C) leaves a
half file that looks like a report. Here the content goes to a temporary file in the same
folder, which is flushed to disk and only then renamed onto the target: a rename within a
folder is atomic, so readers see the old file or the new one. On failure the temporary file
is removed and the old file stays as it was.

The file-system errors a user can fix become a :class:`survey.errors.ReportError` that
names the file and what to do.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from survey.errors import Location, ReportError

# Errors that can only come from writing, wherever they are raised: they are translated
# even when the caller's own code (say a PDF writer) raises them inside ``atomic_path``.
_FULL = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}
_WRITE_ERRORS = _FULL | {errno.EROFS}
# Permission errors are only ours to explain when our own steps (create, rename) hit
# them: in the caller's code they may concern an input file.
_OWN_ERRORS = _WRITE_ERRORS | {errno.EACCES, errno.EPERM}


def write_bytes_atomic(path: Path | str, data: bytes) -> None:
    """Write ``data`` to ``path`` completely, or leave ``path`` as it was."""
    with atomic_path(path) as temporary:
        fd = os.open(temporary, os.O_WRONLY | os.O_TRUNC | getattr(os, "O_BINARY", 0))
        try:
            view = memoryview(data)
            while view:  # os.write may write less than asked
                written = os.write(fd, view)
                view = view[written:]
        finally:
            os.close(fd)


def write_text_atomic(path: Path | str, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` completely, or leave ``path`` as it was."""
    write_bytes_atomic(path, text.encode(encoding))


@contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s folder; it replaces ``path`` on success.

    Write the whole file to the yielded path (by name: any library that takes a path will
    do). When the block ends normally the file is flushed to disk and renamed onto
    ``path``; when it raises, the temporary file is removed and ``path`` is untouched. A
    full disk, a read-only folder or a missing permission raise ``ReportError``.
    """
    target = Path(path)
    temporary = _create_temporary(target)
    try:
        try:
            yield temporary
        except OSError as exc:
            if exc.errno in _WRITE_ERRORS:
                raise _report_error(target, exc) from exc
            raise
        try:
            _flush_to_disk(temporary)
            os.replace(temporary, target)
        except OSError as exc:
            if exc.errno in _OWN_ERRORS:
                raise _report_error(target, exc) from exc
            raise
    except BaseException:
        try:
            temporary.unlink(missing_ok=True)
        except OSError:
            pass  # nothing more can be done; the original error matters more
        raise
    _flush_folder(target.parent)


def _create_temporary(target: Path) -> Path:
    folder = target.parent
    # Hidden and marked as temporary, so a user who sees it after a power cut knows.
    for _ in range(100):
        candidate = folder / f".{target.name}.{secrets.token_hex(4)}.tmp"
        try:
            # O_EXCL: never reuse somebody else's file. The mode honours the user's umask,
            # as a plain open() would (mkstemp would make it private, 0600).
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno in _OWN_ERRORS:
                raise _report_error(target, exc) from exc
            raise
        os.close(fd)
        try:  # a file being replaced keeps its permissions
            os.chmod(candidate, stat.S_IMODE(target.stat().st_mode))
        except OSError:
            pass
        return candidate
    raise ReportError(f"cannot create a temporary file in {folder}", where=Location(file=target))


def _flush_to_disk(path: Path) -> None:
    # Without fsync, a crash after the rename may leave an empty file on some file systems;
    # and a full disk sometimes shows only now (delayed allocation).
    fd = os.open(path, os.O_RDWR)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _flush_folder(folder: Path) -> None:
    """Make the rename itself durable where the system allows it (not on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _report_error(target: Path, exc: OSError) -> ReportError:
    folder = target.parent
    where = Location(file=target)
    if exc.errno in _FULL:
        if exc.errno == errno.EFBIG:
            what = "the file is too large for this disk"
        else:
            what = "the disk is full"
        return ReportError(f"{what}, the file was not written", fix="free space and run again",
                           where=where)
    if exc.errno == errno.EROFS:
        return ReportError(f"cannot write to {folder}: it is read-only",
                           fix="choose another output folder and run again", where=where)
    return ReportError(f"cannot write to {folder}: permission denied",
                       fix="close the file if another program has it open, "
                           "or choose a folder you may write to",
                       where=where)
