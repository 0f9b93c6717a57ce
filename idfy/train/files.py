"""Run-folder files written so that a crash never leaves half a file: atomic writes, the clean-up of the
temporaries a killed run left, and the one-line wording of a failed read or write."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["atomic_write_bytes", "remove_stale_temporaries", "write_error_text"]


def atomic_write_bytes(path: str | Path, write: Any) -> Path:
    """Write a file atomically: ``write(fileobj)`` fills a temporary file in the same folder, which is
    flushed, fsync'ed and renamed over ``path``; the folder is fsync'ed too where the OS allows it.

    Raises:
        OSError: the folder cannot be created or written (no space, read-only, ...); the temporary file is
            removed and an existing ``path`` stays as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a run folder's files are meant to be shared like any other
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError) and e.errno is not None and e.filename is None:
            e.filename = str(path)  # say which file a failed write or fsync was for
        raise
    _fsync_dir(path.parent)
    return path


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Delete the temporary files (``.NAME.pt.*.tmp``) a killed run left in ``folder``; returns them."""
    removed = []
    for tmp in Path(folder).glob(".*.pt.*.tmp"):
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed.append(tmp)
    return removed


def _fsync_dir(folder: Path) -> None:
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


def write_error_text(e: OSError, action: str = "writing") -> str:
    """One line for a failed write (or read: ``action="reading"``), e.g.
    ``"no space left on device writing runs/x/last.pt"``."""
    reasons = {
        errno.ENOSPC: "no space left on device",
        errno.EDQUOT: "disk quota exceeded",
        errno.EROFS: "read-only file system",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EFBIG: "file too large for the file system",
        errno.EIO: "input/output error on the device",
    }
    reason = reasons.get(e.errno) if e.errno is not None else None
    if reason is None:
        reason = os.strerror(e.errno).lower() if e.errno else type(e).__name__
    return f"{reason} {action} {e.filename}" if e.filename else reason
