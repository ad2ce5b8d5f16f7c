"""The exports' typeface and text measure."""

import io

from pypdf import PdfReader

from previz_app.export.fonts import ellipsize, pil_font, text_width, wrap_text
from previz_app.export.pdf import pdf_canvas


def test_lines_wrap_within_the_width_and_keep_paragraphs():
    lines = wrap_text("Mara pours tea. Tom watches from the door.\n\nThe lamp is out.", 10, 90)
    assert lines[-2:] == ["", "The lamp is out."]
    assert all(text_width(line, 10) <= 90 for line in lines)
    assert " ".join(line for line in lines if line) == "Mara pours tea. Tom watches from the door. The lamp is out."


def test_a_word_wider_than_the_line_is_cut_and_cut_text_ends_in_an_ellipsis():
    lines = wrap_text("Supercalifragilisticexpialidocious", 10, 40)
    assert "".join(lines) == "Supercalifragilisticexpialidocious" and len(lines) > 2
    assert all(text_width(line, 10) <= 40 for line in lines)
    clipped = wrap_text("one two three four five six seven eight nine ten", 10, 50, max_lines=2)
    assert len(clipped) == 2 and clipped[-1].endswith("…")


def test_a_pasted_page_is_cut_to_the_width_at_once():
    text = "A citation pasted whole into a cell. " * 600  # 22,000 characters
    cut = ellipsize(text, 9, 200)
    assert cut.endswith("…") and text.startswith(cut[:-1]) and text_width(cut, 9) <= 200
    assert text_width(text[: len(cut)] + "…", 9) > 200  # one more character would not fit
    assert ellipsize("short", 9, 200) == "short"


def test_greek_and_cyrillic_stay_real_text_in_a_pdf():
    line = "Элла наливает чай — Ο φάρος σβήνει — Café «Lumière»"
    data = io.BytesIO()
    canvas = pdf_canvas(data, "Test", "fonts")
    canvas.drawString(72, 720, line)
    canvas.showPage()
    canvas.save()
    page = PdfReader(io.BytesIO(data.getvalue())).pages[0]
    assert page.extract_text().strip() == line
    fonts = [font.get_object() for font in page["/Resources"]["/Font"].values()]
    assert fonts and all("/FontFile2" in font["/FontDescriptor"] for font in fonts)  # embedded subsets


def test_the_png_face_draws_cyrillic_glyphs_not_boxes():
    font = pil_font("regular", 40)
    # A missing glyph draws as the same .notdef box for every letter.
    masks = {letter: bytes(font.getmask(letter)) for letter in "ЭлаБ"}
    assert len(set(masks.values())) == 4
