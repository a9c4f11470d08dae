"""Every non-ASCII character the tablet and SEH pages print is drawn by a font the machine has.

Status markers carry meaning next to colour ("never colour alone"); on a Debian tablet with
only DejaVu fonts "⛔" was drawn as the empty missing-glyph box, so "SEH-stop" lost its marker."""

from __future__ import annotations

from pathlib import Path

from tests.harness.procs import REPO_ROOT
from tests.harness.ui_browser import chromium  # noqa: F401

SOURCES = ["web/templates", "seh/templates", "web/static", "web", "seh", "edge"]
SUFFIXES = {".html", ".py", ".js", ".css"}

# Draws one character on a canvas and compares the pixels with a code point no font has.
SAME_AS_MISSING = """(chars) => {
  const canvas = document.createElement('canvas'); canvas.width = 64; canvas.height = 64;
  const g = canvas.getContext('2d');
  const draw = (ch) => { g.clearRect(0, 0, 64, 64); g.font = '40px sans-serif'; g.fillText(ch, 6, 46);
                         return Array.from(g.getImageData(0, 0, 64, 64).data).join(','); };
  const missing = draw('\\u{10FFFD}');
  return Array.from(chars).filter(ch => draw(ch) === missing);
}"""


def printed_characters() -> set[str]:
    chars: set[str] = set()
    for folder in SOURCES:
        for path in (REPO_ROOT / folder).glob("*"):
            if path.suffix in SUFFIXES and "vendor" not in path.parts:
                chars |= {ch for ch in Path(path).read_text(encoding="utf-8") if ord(ch) > 127}
    return chars


def test_every_character_the_pages_print_has_a_glyph(chromium):  # noqa: F811
    chars = printed_characters()
    assert {"✓", "▲", "⚠", "·"} <= chars  # the scan reads the templates and the word lists
    page = chromium.new_page()
    page.set_content("<!doctype html><html lang=nl><body>glyphs</body></html>")
    missing = page.evaluate(SAME_AS_MISSING, "".join(sorted(chars)))
    assert missing == [], f"drawn as the missing-glyph box: {[f'U+{ord(c):04X} {c}' for c in missing]}"
    assert page.evaluate(SAME_AS_MISSING, "\u0378") == ["\u0378"]  # it sees one (an unassigned code point)
