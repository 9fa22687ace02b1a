"""Reading the PDFs the tests print: pages, text, fonts (pypdf), and pages as PNG images (poppler's pdftoppm)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

KHMER = re.compile(r"[\u1780-\u17ff]")


@dataclass
class Parsed:
    pages: int
    text: str
    fonts: set[str]

    @property
    def khmer_characters(self) -> int:
        return len(KHMER.findall(self.text))


def parse(content: bytes) -> Parsed:
    from pypdf import PdfReader

    assert content.startswith(b"%PDF-"), "not a PDF"
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    fonts = set()
    for page in reader.pages:
        for font in (page.get("/Resources", {}).get("/Font") or {}).values():
            fonts.add(str(font.get_object().get("/BaseFont", "")))
    return Parsed(pages=len(reader.pages), text=" ".join(text.split()), fonts=fonts)


def to_png(content: bytes, directory: Path, *, page: int = 1, dpi: int = 110) -> Path:
    """Page ``page`` as a PNG in ``directory`` (needs poppler-utils)."""
    if shutil.which("pdftoppm") is None:
        import pytest

        pytest.skip("pdftoppm (poppler-utils) is not installed")
    source = directory / "document.pdf"
    source.write_bytes(content)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-f", str(page), "-l", str(page), str(source),
                    str(directory / "page")], check=True, timeout=60)
    return next(directory.glob("page*.png"))
