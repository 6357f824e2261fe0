"""How a refusal message quotes the value it refuses: text in quotes, shortened past
:data:`QUOTED_CHARACTERS` with its length said, anything else as its repr (a number of
thousands of digits by its size)."""

from __future__ import annotations

#: the longest quotation of a refused value in its message
QUOTED_CHARACTERS = 40


def quoted(value) -> str:
    """A value as its refusal quotes it: ``'text'`` (shortened past
    :data:`QUOTED_CHARACTERS`) or its repr.

    >>> quoted("2-x-1"), quoted(0.5), quoted("9" * 50)
    ("'2-x-1'", '0.5', "'99999999999999999999999999999999999999…' (50 characters)")
    """
    if isinstance(value, str):
        if len(value) <= QUOTED_CHARACTERS:
            return f"'{value}'"
        return f"'{value[:QUOTED_CHARACTERS - 2]}…' ({len(value):,} characters)"
    try:
        text = repr(value)
    except ValueError:  # an int past Python's digit limit for str()
        return f"a number of {value.bit_length():,} bits"
    return text if len(text) <= QUOTED_CHARACTERS else quoted(text)
