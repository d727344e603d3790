"""Atomic output: every file marsrelay writes goes to a temporary file, then is renamed."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write_bytes", "atomic_write_text", "atomic_write_with"]


def atomic_write_with(path: str | Path, writer: Callable[[str], None],
                      mode: int | None = None) -> Path:
    """Call ``writer(tmp_path)`` to produce the file, then rename it onto ``path``.

    The temporary file lives in the destination folder so the rename is atomic; on any error
    it is removed and the destination is left untouched. ``mode``: the file's permissions
    (default: the usual ones, 0666 less the umask; 0o600 for files only their owner may read).
    """
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    try:
        writer(tmp)
        if mode is None:
            # mkstemp creates 0600 files; give the result the usual permissions.
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return dest


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""

    def _w(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)

    return atomic_write_with(path, _w)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""

    def _w(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            fh.write(data)

    return atomic_write_with(path, _w)
