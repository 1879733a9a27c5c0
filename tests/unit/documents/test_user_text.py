"""Documents render whatever text reaches them: line wrapping (CJK, long words) and control
characters, which the contracts refuse now but stored data and previews may still carry. How
wrapping's time grows with a text's length is a figure of bench/documents.py, not a timed test."""

from itertools import pairwise

import pytest

from documents import render_document
from documents.cii import document_xml
from documents.model import document_of
from documents.pdf import REGULAR, _register_fonts, _wrap, text_width
from tests.unit.documents.samples import as_stored_before_bounds
from tests.unit.documents.test_document import embedded_xml, text_of

WIDTH = 240.0  # points, the description column's 85 mm is about 241


@pytest.fixture(autouse=True)
def fonts():
    _register_fonts()


def test_every_wrapped_line_fits_and_words_are_kept_whole_where_they_fit():
    text = "Wartung und Pflege der Heizungsanlage im Erdgeschoss einschließlich Anfahrt " * 6
    lines = _wrap(text, WIDTH, 9)
    assert len(lines) > 3
    assert all(text_width(line, REGULAR, 9) <= WIDTH for line in lines)
    assert " ".join(lines) == " ".join(text.split())  # no word cut, none lost
    # Each line is as full as it can be: its next word would not have fitted.
    for line, following in pairwise(lines):
        assert text_width(f"{line} {following.split()[0]}", REGULAR, 9) > WIDTH


def test_a_word_longer_than_a_line_is_cut_where_it_must_be():
    word = "Donaudampfschifffahrtsgesellschaftskapitänsmütze" * 4
    lines = _wrap(f"ab {word} cd", WIDTH, 9)
    assert lines[0] == "ab"
    assert "".join(lines[1:]).replace(" ", "") == f"{word}cd"
    assert all(text_width(line, REGULAR, 9) <= WIDTH for line in lines)
    assert all(text_width(line + word[0], REGULAR, 9) > WIDTH for line in lines[1:-1])


def test_chinese_and_japanese_break_between_ideographs_never_before_a_closing_mark():
    text = "软件开发与现场培训服务。" * 12 + "システム保守（年間）、" * 6
    lines = _wrap(text, WIDTH, 9)
    assert len(lines) > 3
    assert "".join(lines) == text  # nothing lost, no space added between ideographs
    assert all(text_width(line, REGULAR, 9) <= WIDTH for line in lines)
    assert not any(line[0] in "。、）" for line in lines)
    # Full lines: the next character would not have fitted (a closing mark goes with its ideograph).
    assert all(text_width(line + "软", REGULAR, 9) > WIDTH - text_width("软。", REGULAR, 9) for line in lines[:-1])


def test_mixed_latin_and_ideographs_break_next_to_an_ideograph_not_inside_a_word():
    text = "Lizenz für 会計ソフトウェア Enterprise Edition 年間サポート " * 8
    lines = _wrap(text, WIDTH, 9)
    words = set(text.split()) | {"Enterprise", "Edition", "Lizenz"}
    for line in lines:
        first, last = line.split()[0], line.split()[-1]
        assert not first.isascii() or first in words
        assert not last.isascii() or last in words


CONTROLS = "\x00\x01\x08\x0b\x0c\x1b\x7f\x85\x9f\u2028\ufffe"


def test_control_characters_in_any_user_text_render_as_spaces_in_the_pdf_and_valid_xml():
    dirty = f"Acme{CONTROLS}Ltd"
    line = {"description": f"Beratung{CONTROLS}vor Ort", "quantity": "1", "unit_amount": 1000, "tax_rate": "20",
            "amount": 1000, "tax_amount": 200}
    snapshot = as_stored_before_bounds(
        customer={"name": dirty, "email": ["ap@kunde.example"], "language": "de", "tax_id": f"DE{CONTROLS}1",
                  "address": {"line1": f"Haupt{CONTROLS}straße 5", "city": "Berlin", "country": "DE"}},
        lines=[line], subtotal=1000, tax=200, total=1200, amount_paid=0, amount_due=1200, amount_remaining=1200,
        memo=f"Danke{CONTROLS}\nZeile zwei\x00",
    )
    issuer = snapshot.issuer.model_copy(update={"company_name": f"Verkäufer{CONTROLS}GmbH"})
    pdf = render_document(snapshot, issuer, "de")
    text = text_of(pdf)
    for printed in ("Acme Ltd", "Beratung vor Ort", "Haupt straße 5", "Verkäufer GmbH", "Danke", "Zeile zwei"):
        assert printed in text
    xml = document_xml(document_of(snapshot), issuer)
    assert not any(char in xml.decode() for char in CONTROLS if char != "\x85")
    root = embedded_xml(pdf)  # valid against the XSD
    assert root.xpath("string(//*[local-name()='BuyerTradeParty']/*[local-name()='Name'])") == "Acme Ltd"
