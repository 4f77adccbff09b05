"""Content-addressed media files: `<data_dir>/media/<sha256>.<ext>`, written atomically.

A file is written to a temporary name in the same directory, fsynced, then renamed, so a reader
(or a crash) never sees half a file; identical content lands on the same name, so saving it twice
costs nothing."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from tools.production.errors import InvalidInput

# mimetypes' answers vary by platform (e.g. '.jpe' for image/jpeg); pin the common ones.
EXTENSIONS = {
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
}
CHUNK = 1 << 20


def extension(mime_type: str) -> str:
    ext = EXTENSIONS.get(mime_type) or (mimetypes.guess_extension(mime_type) or "").lstrip(".")
    if not ext:
        raise InvalidInput(f"Unknown media type {mime_type!r}: pass an image/* or video/* type such as 'video/mp4'.")
    return ext


def guess_mime(path: Path) -> str:
    by_suffix = {f".{ext}": mime for mime, ext in EXTENSIONS.items()} | {".jpeg": "image/jpeg"}
    mime = by_suffix.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    if not mime or not mime.startswith(("image/", "video/")):
        raise InvalidInput(
            f"{path.name!r} is not an image or video file (by its extension): pass a .mp4, .mov, .webm, "
            ".png, .jpg or .webp file, or give mime_type explicitly."
        )
    return mime


def store_bytes(media_dir: Path, data: bytes, ext: str) -> tuple[str, Path]:
    """Write `data` under its content hash; returns (sha256, final path)."""
    sha = hashlib.sha256(data).hexdigest()
    final = media_dir / f"{sha}.{ext}"
    if not final.exists():
        _atomic_write(media_dir, final, lambda out: out.write(data))
    return sha, final


def store_file(media_dir: Path, source: Path, ext: str) -> tuple[str, int, Path]:
    """Copy `source` in under its content hash, streaming; returns (sha256, size, final path)."""
    media_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=media_dir, prefix=".incoming-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            while block := src.read(CHUNK):
                digest.update(block)
                size += len(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        final = media_dir / f"{digest.hexdigest()}.{ext}"
        if final.exists():
            tmp.unlink()
        else:
            os.replace(tmp, final)
            _fsync_dir(media_dir)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return digest.hexdigest(), size, final


def _atomic_write(media_dir: Path, final: Path, write: Callable[[BinaryIO], object]) -> None:
    media_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=media_dir, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp_name, final)
        _fsync_dir(media_dir)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _fsync_dir(directory: Path) -> None:
    # The rename is durable only once the directory entry is.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
