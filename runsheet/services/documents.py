"""What a submitted document is, told by its content: PDF, DOCX, XLSX, JPEG or PNG.

Neither the file's name nor the type its sender declares decides: the first bytes do (and,
for the Office formats, the zip's ``[Content_Types].xml`` and its ``word/`` or ``xl/``
parts). A name or declared type that names another accepted type than the content is
refused, so a PNG called ``report.pdf`` does not reach the district as a "PDF".
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from ..domain.errors import MissingDocument, UnsupportedDocument

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # 20 MiB: a scanned plan of a few dozen pages
# A zip's [Content_Types].xml is a few kilobytes; more than this is not an Office file.
MAX_CONTENT_TYPES_BYTES = 1024 * 1024
MAX_FILE_NAME_LENGTH = 150
# PDF readers accept the header anywhere in the first kilobyte (after junk some tools add).
PDF_HEADER_WITHIN = 1024


@dataclass(frozen=True)
class DocumentType:
    """One accepted kind of document."""

    name: str  # shown to people: "PDF"
    media_type: str
    extensions: tuple[str, ...]


PDF = DocumentType("PDF", "application/pdf", (".pdf",))
DOCX = DocumentType(
    "DOCX",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    (".docx",),
)
XLSX = DocumentType(
    "XLSX",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    (".xlsx",),
)
JPEG = DocumentType("JPG", "image/jpeg", (".jpg", ".jpeg"))
PNG = DocumentType("PNG", "image/png", (".png",))
ACCEPTED = (PDF, DOCX, XLSX, JPEG, PNG)
ACCEPTED_NAMES = ", ".join(t.name for t in ACCEPTED)

# The main part each Office format declares in [Content_Types].xml, and the folder it is in.
OFFICE_MAIN_PARTS = {
    DOCX: (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        "word/",
    ),
    XLSX: ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml", "xl/"),
}
# Macro-enabled and template variants declare these instead; they are not accepted.
OFFICE_OTHER_MAIN = re.compile(rb"(macroEnabled|template)\.main\+xml", re.IGNORECASE)


def detect_type(content: bytes) -> DocumentType | None:
    """Return the accepted type ``content`` is, by its bytes, or None."""
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if b"%PDF-" in content[:PDF_HEADER_WITHIN]:
        return PDF
    if content.startswith(b"PK\x03\x04"):
        return _office_type(content)
    return None


def _office_type(content: bytes) -> DocumentType | None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > MAX_CONTENT_TYPES_BYTES:
                return None
            with archive.open(info) as part:
                declared = part.read(MAX_CONTENT_TYPES_BYTES + 1)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, RuntimeError, ValueError):
        # not a zip, no [Content_Types].xml, encrypted, or a compression it cannot read
        return None
    if len(declared) > MAX_CONTENT_TYPES_BYTES or OFFICE_OTHER_MAIN.search(declared):
        return None
    for kind, (main_type, folder) in OFFICE_MAIN_PARTS.items():
        if main_type.encode() in declared and any(n.startswith(folder) for n in names):
            return kind
    return None


def _claimed_types(file_name: str, declared_type: str | None) -> set[DocumentType]:
    """Return the accepted types the name's extension or the declared type names."""
    suffix = PurePosixPath(file_name.lower()).suffix
    media = (declared_type or "").split(";")[0].strip().lower()
    claimed = {t for t in ACCEPTED if suffix in t.extensions}
    claimed |= {t for t in ACCEPTED if media == t.media_type}
    if media == "image/jpg":  # a common misspelling of image/jpeg
        claimed.add(JPEG)
    return claimed


def check_document(content: bytes, file_name: str, declared_type: str | None) -> DocumentType:
    """Return the document's type; raise MissingDocument or UnsupportedDocument."""
    if not content:
        raise MissingDocument("file: the document is empty", field="file")
    if len(content) > MAX_DOCUMENT_BYTES:  # the upload route stops earlier; this is a guard
        raise UnsupportedDocument("file: the document is larger than 20 MB", field="file")
    detected = detect_type(content)
    if detected is None:
        raise UnsupportedDocument(
            f"file: the content is not a {ACCEPTED_NAMES} document", field="file"
        )
    claimed = _claimed_types(file_name, declared_type)
    if claimed and detected not in claimed:
        said = " or ".join(sorted(t.name for t in claimed))
        raise UnsupportedDocument(
            f"file: it says it is {said}, but its content is {detected.name}", field="file"
        )
    return detected


def safe_file_name(raw: str | None, kind: DocumentType) -> str:
    """Return the name a document is kept and offered under: no folders, no control chars.

    Browsers send the bare name, old ones a whole Windows path; either way only the last
    part is kept, with the type's extension when the name has none of it.
    """
    name = PureWindowsPath(PurePosixPath(raw or "").name).name
    name = unicodedata.normalize("NFC", name)
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C" and c not in '"\\/')
    name = name.strip().strip(".")
    stem, dot, suffix = name.rpartition(".")
    if not dot or f".{suffix.lower()}" not in kind.extensions:
        stem, suffix = name, kind.extensions[0].lstrip(".")
    stem = stem.strip()[: MAX_FILE_NAME_LENGTH - len(suffix) - 1].strip() or "document"
    return f"{stem}.{suffix}"
