from datetime import date

import pytest
from pydantic import ValidationError

from contracts.messages.numbering import AllocateNumber
from services.numbering.domain.numbers import format_number, sequence_key


def test_numbers_render_the_format_parts():
    assert format_number("INV-{yyyy}-{seq:05}", 1, date(2026, 3, 4)) == "INV-2026-00001"
    assert format_number("{yy}{mm}/{seq:03}", 42, date(2026, 3, 4)) == "2603/042"
    assert format_number("F{seq}", 123456, date(2026, 3, 4)) == "F123456"


def test_padding_never_truncates():
    assert format_number("INV-{seq:02}", 1234, date(2026, 1, 1)) == "INV-1234"


def test_a_per_year_format_starts_a_new_sequence_each_year():
    assert sequence_key("acct/INV-{yyyy}-{seq:05}", "INV-{yyyy}-{seq:05}", date(2026, 12, 31)) == "acct/INV-{yyyy}-{seq:05}@2026"
    assert sequence_key("acct/INV-{yyyy}-{seq:05}", "INV-{yyyy}-{seq:05}", date(2027, 1, 1)) == "acct/INV-{yyyy}-{seq:05}@2027"
    assert sequence_key("acct/F{seq}", "F{seq}", date(2027, 1, 1)) == "acct/F{seq}"
    assert sequence_key("acct/{yyyy}{mm}-{seq}", "{yyyy}{mm}-{seq}", date(2027, 2, 1)) == "acct/{yyyy}{mm}-{seq}@2027-02"


@pytest.mark.parametrize("bad", ["INV-{yyyy}", "{seq}-{seq}", "{mm}-{seq}"])
def test_formats_that_would_repeat_or_lack_a_sequence_are_refused_on_arrival(bad):
    with pytest.raises(ValidationError) as refused:
        AllocateNumber(series_key=f"acct/{bad}", number_format=bad, invoice_id="inv-1", issued_on=date(2026, 1, 1))
    assert refused.value.errors()[0]["type"] == "invalid_number_format"
