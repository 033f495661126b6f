"""Submitted files: their type recognised from the bytes, their storage, how they are served.

A file is kept under a random key the server chose (never a name or path the uploader sent);
the uploader's name is shortened to a safe display name used only in ``Content-Disposition``.
Files are always served as attachments, with the content type of the recognised type and
``X-Content-Type-Options: nosniff``, so a browser never renders one as a page.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import tempfile
import unicodedata
import zipfile
from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import quote

from blendkit.errors import CourseInputInvalid, NotFound

__all__ = [
    "CONTENT_TYPES",
    "LocalDirectoryStorage",
    "SubmissionStorage",
    "attachment_headers",
    "display_name",
    "sniff",
]

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "txt": "text/plain; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
_EXTENSION = {"jpeg": "jpg"}
_KEY = re.compile(r"^[0-9a-f]{32}$")
_MARKUP = re.compile(rb"<\s*(!doctype|html|script|svg|iframe|body|head|meta|\?xml)", re.I)


def _refused(message: str) -> CourseInputInvalid:
    return CourseInputInvalid(message, code="courses.review_file_refused")


def sniff(data: bytes) -> str | None:
    """The type of ``data`` from its bytes (pdf, png, jpeg, docx, txt), or None.

    Text must be UTF-8 without NUL bytes or markup: an HTML, SVG or XML page is not text.
    """
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError):
            return None
        return "docx" if {"[Content_Types].xml", "word/document.xml"} <= names else None
    if b"\x00" in data or _MARKUP.search(data[:4096]):
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "txt"


def display_name(uploaded: str, kind: str) -> str:
    """A safe name to offer when the file is downloaded: the last part of what the uploader
    sent, letters, digits, ``-_.`` and spaces only, at most 80 characters, with the extension
    of the recognised type."""
    base = re.split(r"[\\/]", uploaded or "")[-1]
    base = unicodedata.normalize("NFKC", base)
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = re.sub(r"[^\w\- ]+", "_", stem, flags=re.ASCII).strip(" ._")[:80] or "submission"
    return f"{stem}.{_EXTENSION.get(kind, kind)}"


def check_file(data: bytes, allowed: tuple[str, ...], max_bytes: int) -> str:
    """The recognised type of an upload, or ``courses.review_file_refused`` saying why."""
    if not data:
        raise _refused("the file is empty: choose the file with your work")
    if len(data) > max_bytes:
        raise _refused(
            f"the file is {len(data):,} bytes; the largest accepted is {max_bytes:,} bytes"
        )
    kind = sniff(data)
    if kind is None or kind not in allowed:
        named = kind or "of a type that is not accepted"
        raise _refused(
            f"the file is {named}; accepted types are {', '.join(allowed)} (recognised from "
            "the file's content, not its name)"
        )
    return kind


def attachment_headers(name: str, kind: str, size: int) -> dict[str, str]:
    """Headers that make a browser download the file and never render it."""
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return {
        "Content-Type": CONTENT_TYPES[kind],
        "Content-Disposition": (
            f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
        ),
        "Content-Length": str(size),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
    }


@runtime_checkable
class SubmissionStorage(Protocol):
    """Where submitted files live. Keys are chosen by the storage, never by the uploader."""

    def save(self, data: bytes) -> str:
        """Keep ``data``; the key to read it back."""
        ...

    def load(self, key: str) -> bytes:
        """The bytes under ``key`` (``store.not_found`` when there are none)."""
        ...

    def delete(self, key: str) -> None:
        """Forget ``key`` (nothing when it is unknown)."""
        ...


class LocalDirectoryStorage:
    """Files in one local directory, under random names: right for one host only.

    Several hosts (or containers without a shared volume) each see their own directory, so a
    file saved by one is missing on the others: use a storage shared by every host there.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise NotFound("no stored file has this key")
        return self.root / key[:2] / key

    def save(self, data: bytes) -> str:
        key = secrets.token_hex(16)
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.chmod(temporary, 0o600)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return key

    def load(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound(
                "the submitted file is missing from the storage directory (several hosts need "
                "a shared storage)"
            ) from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
