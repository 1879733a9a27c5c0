"""The input guard's character rule is Unicode's: every control character (Cc) and nothing else."""

import sys
import unicodedata

import pytest

from chassis.http.input import InvalidInput, check_text


def test_every_control_character_is_refused_and_no_other_character():
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue  # surrogates: not UTF-8 at all (below)
        character = chr(code)
        if unicodedata.category(character) == "Cc":
            with pytest.raises(InvalidInput, match=f"control character U\\+{code:04X}"):
                check_text(["query", "customer"], f"a{character}b".encode())
        elif code % 97 == 0:  # a sample of the others, all planes
            assert check_text(["query", "customer"], character.encode()) == character


@pytest.mark.parametrize("raw", [b"\xff", b"\xed\xa0\x80", b"\xc3", b"\xf4\x90\x80\x80"])
def test_bytes_that_are_not_utf8_lone_surrogates_included_are_refused(raw):
    with pytest.raises(InvalidInput, match="is not UTF-8 text"):
        check_text(["path"], raw)


def test_a_value_longer_than_any_field_is_refused():
    assert check_text(["query", "number"], b"x" * 1000)
    with pytest.raises(InvalidInput, match="The query parameter 'number' is longer than 1000 characters"):
        check_text(["query", "number"], b"x" * 1001)
