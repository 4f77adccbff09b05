"""Unit tests for the style readers, palette and chunker (no server, no Chroma, no embedder)."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfWriter

from tests.conftest import SAMPLE_KIT
from tools.style import readers
from tools.style.chunking import chunk_document, chunk_id, split_span
from tools.style.errors import StyleInputError
from tools.style.palette import dominant_palette, hex_to_lab
from tools.style.readers import (
    SUPPORTED_SUFFIXES,
    Document,
    effective_kind,
    is_sidecar,
    markdown_sections,
    read_source,
    read_text,
)

KIT = SAMPLE_KIT


def _write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _png(colour: tuple[int, int, int], size: tuple[int, int] = (32, 32)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


# --- the sample kit, one reader at a time ------------------------------------------------------


def test_markdown_style_bible_keeps_heading_paths() -> None:
    path = KIT / "style_bible.md"
    doc = read_source(path, source="style_bible.md")
    assert doc.source == "style_bible.md"
    assert doc.title == "Night Ferry — Style Bible"
    assert doc.kind_hint == "guide"
    assert doc.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    headings = [s.heading for s in doc.sections]
    assert "Night Ferry — Style Bible > Lighting" in headings
    assert "Night Ferry — Style Bible > Lighting > Dawn" in headings
    assert "Night Ferry — Style Bible > Colour > Grading" in headings
    camera = next(s for s in doc.sections if s.heading.endswith("> Camera"))
    assert "never handheld" in doc.section_text(camera)


def test_character_and_location_sheets_get_kind_hints() -> None:
    mara = read_source(KIT / "characters" / "mara.md")
    assert mara.kind_hint == "character"
    assert mara.title == "Mara Vell — Character Sheet"
    assert "red wool coat" in mara.text
    assert "LEFT eyebrow" in mara.text
    ode = read_source(KIT / "characters" / "ode.md")
    assert ode.kind_hint == "character" and "silver beard" in ode.text
    deck = read_source(KIT / "locations" / "ferry_deck.md")
    assert deck.kind_hint == "location"


def test_plain_text_is_one_section_titled_from_filename() -> None:
    doc = read_source(KIT / "tone.txt")
    assert doc.kind_hint == "tone"
    assert doc.title == "Tone"
    assert [s.heading for s in doc.sections] == ["Tone"]
    assert "lullaby sung in the rain" in doc.text


def test_pdf_treatment_text_is_extracted_per_page() -> None:
    doc = read_source(KIT / "treatment.pdf")
    assert doc.title == "Night Ferry - Treatment"
    assert [s.heading for s in doc.sections] == [
        "Night Ferry - Treatment > page 1",
        "Night Ferry - Treatment > page 2",
        "Night Ferry - Treatment > page 3",
    ]
    assert "Tobiah" in doc.section_text(doc.sections[1])
    # Hard-wrapped lines are rejoined into paragraphs: a sentence is not split by a newline,
    # and a short last line ends its paragraph.
    assert (
        "\n\nLOGLINE. On the last night before her ferry is decommissioned, a young deckhand and the old "
        "captain" in doc.text
    )
    assert "over the rail.\n\nACT TWO." in doc.text


def test_brand_kit_json_renders_palette_typography_and_rules() -> None:
    doc = read_source(KIT / "brand_palette.json")
    assert doc.kind_hint == "palette"
    assert doc.title == "Night Ferry brand kit"
    assert "Lantern Amber #F2A541" in doc.text
    assert "Harbour Teal #1F5F63" in doc.text
    assert "Fraunces" in doc.text
    assert "Studio: Lumen & Moss" in doc.text
    by_heading = {s.heading.rsplit(" > ", 1)[-1]: doc.section_text(s) for s in doc.sections}
    assert "Don't stretch" in by_heading["Don't"]
    assert "Bone White on Night Navy" in by_heading["Do"]
    names = {c.name: c for c in doc.palette}
    assert names["Lantern Amber"].hex == "#F2A541"
    assert names["Lantern Amber"].share is None
    assert names["Lantern Amber"].common_name == "amber"
    assert names["Harbour Teal"].lab == hex_to_lab("#1F5F63")


@pytest.mark.parametrize(
    "payload",
    [
        {"palette": {"Harbour Teal": "#1f5f63", "Lantern Amber": {"hex": "F2A541", "usage": "lanterns"}}},
        {
            "colors": {
                "primary": ["Harbour Teal #1F5F63"],
                "accent": [{"label": "Lantern Amber", "value": "#F2A541"}],
            }
        },
        {"Colour Palette": ["Harbour Teal: #1F5F63", "Lantern Amber - #F2A541"], "Don'ts": "No neon"},
    ],
)
def test_brand_kit_accepts_common_shapes(tmp_path: Path, payload: dict[str, object]) -> None:
    doc = read_source(_write(tmp_path, "kit.json", json.dumps(payload)))
    assert {(c.name, c.hex) for c in doc.palette} == {
        ("Harbour Teal", "#1F5F63"),
        ("Lantern Amber", "#F2A541"),
    }
    assert "Lantern Amber #F2A541" in doc.text


def test_reference_images_carry_palette_caption_and_tags() -> None:
    coat = read_source(KIT / "refs" / "red_coat_silhouette.png", tags=["costume", "mara"])
    assert coat.kind_hint == "reference_image"
    assert coat.title == "Red Coat Silhouette"
    assert "a figure in a knee-length red wool coat" in coat.text  # from the sidecar
    assert "Tags: costume, mara" in coat.text
    red = next(c for c in coat.palette if c.hex == "#B3261E")
    assert red.share is not None and 0.25 < red.share < 0.35
    assert red.name == "crimson"
    assert "crimson #B3261E" in coat.text
    assert len(coat.palette) <= readers.PALETTE_SIZE
    assert sum(c.share or 0 for c in coat.palette) <= 1.0 + 5e-4  # shares are rounded to 4 places
    # The caption file is part of the content hash, so editing it re-indexes the image.
    raw = (KIT / "refs" / "red_coat_silhouette.png").read_bytes()
    assert coat.content_hash != hashlib.sha256(raw).hexdigest()

    dusk = read_source(KIT / "refs" / "harbour_dusk.png")
    assert "Reference image: Harbour Dusk" in dusk.text  # no sidecar: the humanised filename
    assert any(c.common_name in ("dark teal", "teal") for c in dusk.palette)


def test_pure_colour_image_palette_is_that_colour(tmp_path: Path) -> None:
    doc = read_source(_write(tmp_path, "swatch.png", _png((0x1F, 0x5F, 0x63))))
    assert len(doc.palette) == 1
    colour = doc.palette[0]
    assert colour.hex == "#1F5F63"
    assert colour.share == 1.0
    assert colour.lab == pytest.approx(hex_to_lab("#1F5F63"))
    assert colour.lab[0] == pytest.approx(36.4, abs=1.0)


def test_dominant_palette_shares_follow_pixel_counts() -> None:
    pixels = np.zeros((10, 10, 3), dtype=np.uint8)
    pixels[:, :7] = (0xF2, 0xA5, 0x41)
    pixels[:, 7:] = (0x14, 0x21, 0x3D)
    palette = dominant_palette(pixels)
    assert [(c.hex, c.share) for c in palette] == [("#F2A541", 0.7), ("#14213D", 0.3)]


def test_dominant_palette_clusters_noise_into_at_most_k_colours() -> None:
    rng = np.random.default_rng(1)
    pixels = np.concatenate(
        [
            np.clip(rng.normal((200, 30, 30), 6, (600, 3)), 0, 255),
            np.clip(rng.normal((20, 40, 90), 6, (400, 3)), 0, 255),
        ]
    ).astype(np.uint8)
    palette = dominant_palette(pixels, k=2)
    assert len(palette) == 2
    assert palette[0].share == pytest.approx(0.6, abs=0.02)
    assert palette[0].common_name in ("red", "crimson")


def test_every_sample_kit_file_reads_and_chunks_within_limits() -> None:
    files = [p for p in KIT.rglob("*") if p.is_file() and not is_sidecar(p)]
    assert {p.suffix for p in files} == {".md", ".txt", ".pdf", ".json", ".png"}
    for path in files:
        doc = read_source(path)
        chunks = chunk_document(doc)
        assert chunks, path
        assert all(len(c.text) <= 1200 for c in chunks)


# --- bad input: a StyleInputError that names the problem and the fix ---------------------------


def test_corrupt_pdf(tmp_path: Path) -> None:
    raw = (KIT / "treatment.pdf").read_bytes()
    with pytest.raises(StyleInputError, match=r"not a readable PDF.*re-export"):
        read_source(_write(tmp_path, "broken.pdf", raw[: len(raw) // 2]))
    with pytest.raises(StyleInputError, match="not a readable PDF"):
        read_source(_write(tmp_path, "fake.pdf", b"this is not a pdf"))


def test_password_protected_pdf(tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=KIT / "treatment.pdf")
    writer.encrypt("secret")
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(StyleInputError, match=r"password-protected.*unprotected copy"):
        read_source(_write(tmp_path, "locked.pdf", buffer.getvalue()))


def test_pdf_with_only_an_owner_password_is_read(tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=KIT / "treatment.pdf")
    writer.encrypt("", owner_password="owner")
    buffer = io.BytesIO()
    writer.write(buffer)
    assert "LOGLINE" in read_source(_write(tmp_path, "restricted.pdf", buffer.getvalue())).text


def test_pdf_without_text(tmp_path: Path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(StyleInputError, match=r"no extractable text.*OCR"):
        read_source(_write(tmp_path, "scan.pdf", buffer.getvalue()))


@pytest.mark.parametrize(
    "data",
    [
        _png((10, 20, 30))[:40],  # truncated
        b"\x89PNG\r\n\x1a\nnot really",  # right signature, garbage body
        b"GIF89a" + b"\x00" * 20,  # another format under a .png name
    ],
)
def test_corrupt_png(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(StyleInputError, match=r"could not be decoded as a PNG or JPEG.*re-export"):
        read_source(_write(tmp_path, "ref.png", data))


def test_png_with_a_bad_checksum(tmp_path: Path) -> None:
    raw = bytearray((KIT / "refs" / "lantern_glow.png").read_bytes())
    raw[60] ^= 0xFF  # inside the first IDAT chunk
    with pytest.raises(StyleInputError, match="could not be decoded"):
        read_source(_write(tmp_path, "glow.png", bytes(raw)))


def test_bad_json_names_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "kit.json", '{\n  "palette": [\n    {"name": "Teal" "hex": "#1F5F63"}\n  ]\n}\n')
    with pytest.raises(StyleInputError, match=r"not valid JSON: .* line 3, column 21"):
        read_source(path)


@pytest.mark.parametrize(
    ("payload", "pattern"),
    [
        ([1, 2, 3], "not a brand kit"),
        (
            {"palette": [{"name": "Teal", "hex": "teal-ish"}]},
            "'Teal' has 'teal-ish', which is not a hex code",
        ),
        ({"palette": "#1F5F63"}, "palette must be a list or an object"),
        ({}, "nothing to index"),
    ],
)
def test_json_that_is_not_a_usable_brand_kit(tmp_path: Path, payload: object, pattern: str) -> None:
    with pytest.raises(StyleInputError, match=pattern):
        read_source(_write(tmp_path, "kit.json", json.dumps(payload)))


def test_unsupported_suffix_lists_supported_types(tmp_path: Path) -> None:
    with pytest.raises(StyleInputError) as info:
        read_source(_write(tmp_path, "notes.docx", b"PK\x03\x04"))
    message = str(info.value)
    assert "'.docx'" in message
    assert all(suffix in message for suffix in SUPPORTED_SUFFIXES)


def test_empty_text_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(StyleInputError, match="text is empty"):
        read_text("  \n\t ", "Notes")
    with pytest.raises(StyleInputError, match="no text to index"):
        read_source(_write(tmp_path, "blank.md", "\n\n   \n"))


def test_oversized_inline_text() -> None:
    with pytest.raises(StyleInputError, match=r"200,001 bytes; the limit .* 200,000.*Split it"):
        read_text("x" * 200_001, "Too long")
    read_text("word " * 40_000, "Just fits")  # exactly 200,000 bytes


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    with path.open("wb") as handle:
        handle.truncate(readers.MAX_FILE_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(StyleInputError, match="the limit is 20 MB per file"):
        read_source(path)
    # The caller's limit (STUDIO_MAX_FILE_MB) decides, above the default too: this one gets past it
    # and is refused only for what it holds (zeros).
    with pytest.raises(StyleInputError) as raised:
        read_source(path, max_bytes=readers.MAX_FILE_BYTES * 2)
    assert "the limit" not in str(raised.value)


def test_missing_file_directory_and_binary_text(tmp_path: Path) -> None:
    with pytest.raises(StyleInputError, match="does not exist"):
        read_source(tmp_path / "nope.md")
    folder = tmp_path / "folder.md"
    folder.mkdir()
    with pytest.raises(StyleInputError, match="is a directory"):
        read_source(folder)
    with pytest.raises(StyleInputError, match=r"not UTF-8.*re-save it as UTF-8"):
        read_source(_write(tmp_path, "latin.txt", "caf\u00e9".encode("latin-1")))
    with pytest.raises(StyleInputError, match="looks binary"):
        read_source(_write(tmp_path, "bin.txt", b"abc\x00def"))


def test_utf16_and_crlf_text_is_read(tmp_path: Path) -> None:
    doc = read_source(_write(tmp_path, "notes.md", "# Notes\r\n\r\nKeep rain diagonal.\r\n".encode("utf-16")))
    assert doc.text == "# Notes\n\nKeep rain diagonal.\n"
    assert [s.heading for s in doc.sections] == ["Notes"]


# --- inline text, sidecars, kinds --------------------------------------------------------------


def test_read_text_title_and_source() -> None:
    doc = read_text("## Rain\nAlways diagonal.", "Director note 12")
    assert doc.title == "Director note 12"
    assert doc.source == "inline:Director note 12"
    assert doc.sections[0].heading == "Director note 12 > Rain"
    assert read_text("# Storm rules\n\nNo handheld.").title == "Storm rules"
    assert read_text("Keep the lantern flicker at one pulse a second.").title.startswith("Keep the lantern")


def test_sidecar_and_effective_kind() -> None:
    assert is_sidecar(KIT / "refs" / "red_coat_silhouette.png.txt")
    assert not is_sidecar(KIT / "tone.txt")
    assert effective_kind("guide", "character") == "character"
    assert effective_kind("director_note", "character") == "director_note"


def test_markdown_ignores_headings_in_code_and_front_matter() -> None:
    text = "---\ntitle: x\n---\nIntro line.\n\n```\n# not a heading\n```\n\nLighting\n========\n\nWarm.\n"
    title, sections = markdown_sections(text, "Fallback")
    assert title == "Lighting"
    assert [s.heading for s in sections] == ["Fallback", "Lighting"]
    assert "# not a heading" in text[sections[0].char_start : sections[0].char_end]


def test_headings_are_what_commonmark_says() -> None:
    # A rule after a blank line is a rule; right under a paragraph it makes a setext heading.
    text = "# Doc\n\nFirst line\n\n---\n\nMore.\n"
    _, sections = markdown_sections(text, "Doc")
    assert [s.heading for s in sections] == ["Doc"]
    _, sections = markdown_sections("# Doc\n\nFirst line\nsecond line\n---\n\nMore.\n", "Doc")
    assert [s.heading for s in sections] == ["Doc > First line second line"]
    # A heading inside an HTML comment or a fenced block is no heading, let alone the title.
    text = "<!--\n# Draft title\n-->\n\n# Real Title\n\n```\n# not a heading\n```\n\nBody.\n"
    title, sections = markdown_sections(text, "fallback")
    assert title == "Real Title" and [s.heading for s in sections] == ["fallback", "Real Title"]


# --- chunking --------------------------------------------------------------------------------


def _doc(text: str, title: str = "Doc") -> Document:
    return read_text(text, title)


def test_chunk_keeps_heading_with_its_paragraph() -> None:
    doc = read_source(KIT / "style_bible.md")
    chunks = chunk_document(doc)
    lighting = [c for c in chunks if c.heading == "Night Ferry — Style Bible > Lighting"]
    assert lighting
    assert lighting[0].text.startswith("Night Ferry — Style Bible > Lighting\n\nThe key light")
    for chunk in chunks:
        body = doc.text[chunk.char_start : chunk.char_end]
        assert chunk.text == f"{chunk.heading}\n\n{body}"
    assert [c.position for c in chunks] == list(range(len(chunks)))


def _long_markdown() -> str:
    rng = np.random.default_rng(7)
    words = ["lantern", "teal", "harbour", "ferry", "Mara", "Ode", "fog", "amber", "deck", "storm", "rope"]
    paragraphs = []
    for _ in range(12):
        sentences = []
        for _ in range(int(rng.integers(2, 14))):
            n = int(rng.integers(4, 30))
            sentences.append(" ".join(rng.choice(words, n)).capitalize() + ".")
        paragraphs.append(" ".join(sentences))
    return "# Bible\n\n## Long section\n\n" + "\n\n".join(paragraphs) + "\n\n## Short\n\nOne line.\n"


@pytest.mark.parametrize(("max_chars", "overlap"), [(1200, 150), (400, 80), (200, 0), (250, 100)])
def test_chunks_never_exceed_max_chars_nor_cut_words(max_chars: int, overlap: int) -> None:
    doc = _doc(_long_markdown())
    chunks = chunk_document(doc, max_chars=max_chars, overlap=overlap)
    assert len(chunks) > 2
    for chunk in chunks:
        assert len(chunk.text) <= max_chars
        assert chunk.text.startswith(chunk.heading)
        assert chunk.char_start == 0 or not doc.text[chunk.char_start - 1].isalnum()
        assert chunk.char_end == len(doc.text) or not doc.text[chunk.char_end].isalnum()
        assert not doc.text[chunk.char_start].isspace() and not doc.text[chunk.char_end - 1].isspace()
    # Every word of the long section lands in some chunk.
    section = doc.sections[0]
    covered: set[int] = set()
    for chunk in chunks:
        if chunk.heading == section.heading:
            covered.update(range(chunk.char_start, chunk.char_end))
    words = [m.start() for m in re.finditer(r"\S+", doc.text[section.char_start : section.char_end])]
    assert all(section.char_start + w in covered for w in words)


def test_consecutive_chunks_overlap_within_a_section() -> None:
    doc = _doc(_long_markdown())
    chunks = [c for c in chunk_document(doc, max_chars=400, overlap=120) if c.heading.endswith("Long section")]
    overlaps = [b.char_start < a.char_end for a, b in itertools.pairwise(chunks)]
    assert any(overlaps)
    assert all(0 < a.char_end - b.char_start <= 120 for a, b in itertools.pairwise(chunks) if b.char_start < a.char_end)


def test_long_paragraph_splits_on_sentences() -> None:
    doc = _doc("## Lighting\n\n" + " ".join(f"The lantern flickers {n} times over the wet deck." for n in range(30)))
    chunks = chunk_document(doc, max_chars=300, overlap=0)
    assert len(chunks) > 1
    for chunk in chunks:
        body = chunk.text.split("\n\n", 1)[1]
        assert body.startswith("The lantern") and body.endswith("deck.")


def test_a_word_longer_than_a_chunk_is_the_only_thing_cut() -> None:
    blob = "".join(chr(ord("a") + n % 26) for n in range(1000))  # e.g. base64 pasted into notes
    doc = _doc("## Data\n\n" + blob + " tail words")
    chunks = chunk_document(doc, max_chars=300, overlap=0)
    assert all(len(c.text) <= 300 for c in chunks)
    assert "".join(doc.text[c.char_start : c.char_end] for c in chunks).startswith(blob)
    assert chunks[-1].text.endswith(" tail words")


def test_repeated_chunk_text_is_dropped() -> None:
    doc = _doc("## Rule\n\nNo lens flares.\n\n## Rule\n\nNo lens flares.\n")
    assert [c.text for c in chunk_document(doc)] == ["Doc > Rule\n\nNo lens flares."]


def test_split_span_short_text_is_one_window() -> None:
    text = "  short text  "
    assert split_span(text, 0, len(text), 100) == [(2, 12)]


def test_bad_chunking_parameters() -> None:
    doc = _doc("text")
    with pytest.raises(ValueError, match="max_chars"):
        chunk_document(doc, max_chars=50)
    with pytest.raises(ValueError, match="overlap"):
        chunk_document(doc, max_chars=400, overlap=300)


def test_chunk_id_is_stable_and_content_derived() -> None:
    a = chunk_id("lumen-moss", "style_bible.md", "Lighting")
    assert a == chunk_id("lumen-moss", "style_bible.md", "Lighting")
    assert len(a) == 32 and int(a, 16) >= 0
    assert (
        len(
            {
                a,
                chunk_id("other", "style_bible.md", "Lighting"),
                chunk_id("lumen-moss", "x.md", "Lighting"),
                chunk_id("lumen-moss", "style_bible.md", "Camera"),
            }
        )
        == 4
    )
