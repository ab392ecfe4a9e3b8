"""QR codes of the links people open, as SVG that a page can embed inline (segno draws them)."""

from __future__ import annotations

import io

import segno

# Medium error correction: a printed card survives a fold or a smudge, and a link with its
# token still fits a code small enough to scan from a phone held at arm's length.
ERROR_CORRECTION = "m"
QUIET_ZONE = 4  # modules of white around the code, as the standard asks


def qr_svg(text: str, *, title: str | None = None, scale: int = 4) -> str:
    """Return an ``<svg>`` element drawing a QR code of ``text`` (no XML declaration).

    It scales to the box the page gives it (a viewBox, no fixed size), black on white.
    """
    code = segno.make(text, error=ERROR_CORRECTION, micro=False)
    return code.svg_inline(
        scale=scale,
        border=QUIET_ZONE,
        dark="#000",
        light="#fff",
        title=title,
        omitsize=True,
        svgclass="qr",
        lineclass=None,
    )


def qr_svg_document(text: str) -> str:
    """Return a standalone SVG file of a QR code of ``text``."""
    code = segno.make(text, error=ERROR_CORRECTION, micro=False)
    buffer = io.BytesIO()
    code.save(buffer, kind="svg", scale=8, border=QUIET_ZONE, dark="#000", light="#fff")
    return buffer.getvalue().decode("utf-8")
