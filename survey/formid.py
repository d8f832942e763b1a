"""Form ids: random, unguessable, easy to type, and checked.

An id is 13 random symbols of Crockford's base32 (no I, L, O, U: nothing to confuse) with the
first one always a letter, so a spreadsheet never takes an id for a number (``01E001`` became
1E+1 in Excel), plus one check symbol (Luhn mod 32) that catches every single mistyped symbol
and every swap of two neighbours. That is 64 random bits from the operating system's
cryptographic source. Shown grouped for reading: ``KQ7M-4XPA-2R9T-CB``.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
LETTERS = "ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_SYMBOLS = 13  # 1 letter (log2 22 = 4.46 bits) + 12 x 5 bits = 64.5 bits
_TYPO = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def _check_symbol(body: str) -> str:
    """Luhn mod N over the alphabet: detects all single errors and adjacent swaps."""
    n = len(ALPHABET)
    total, factor = 0, 2
    for char in reversed(body):
        addend = factor * ALPHABET.index(char)
        total += addend // n + addend % n
        factor = 1 if factor == 2 else 2
    return ALPHABET[(n - total % n) % n]


def new_form_id() -> str:
    body = secrets.choice(LETTERS) + "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_SYMBOLS - 1))
    return body + _check_symbol(body)


def normalise(text: str) -> str | None:
    """The canonical id for what a person typed (any case, dashes, spaces, O for 0), or None
    when it is not a valid id (wrong length or a failed check symbol)."""
    compact = re.sub(r"[\s\-_.]", "", text).upper().translate(_TYPO)
    if len(compact) != RANDOM_SYMBOLS + 1 or any(c not in ALPHABET for c in compact):
        return None
    if compact[0] not in LETTERS or _check_symbol(compact[:-1]) != compact[-1]:
        return None
    return compact


def grouped(form_id: str) -> str:
    """For people: in groups of four."""
    return "-".join(form_id[i:i + 4] for i in range(0, len(form_id), 4))
