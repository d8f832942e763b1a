"""Form ids: random, unguessable, easy to type, and checked.

An id is 13 random symbols of Crockford's base32 (no I, L, O, U: nothing to confuse) with the
first one always a letter, so a spreadsheet never takes an id for a number (``01E001`` became
1E+1 in Excel), plus one check symbol that catches every single mistyped symbol
and every swap of two neighbours (Damm's method over GF(32)). That is 64 random bits from the operating system's
cryptographic source. Shown grouped for reading: ``KQ7M-4XPA-2R9T-CB``.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
LETTERS = "ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_SYMBOLS = 13  # 1 letter (log2 22 = 4.46 bits) + 12 x 5 bits = 64.5 bits
_TYPO = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def _times_x(value: int) -> int:
    """Multiplication by x in GF(32) (modulus x^5 + x^2 + 1)."""
    value <<= 1
    return value ^ 0b100101 if value & 0b100000 else value


def _check_symbol(body: str) -> str:
    """Damm's check over the quasigroup a o b = x*a + b in GF(32): every single error and
    every swap of neighbours changes the result (Luhn mod N misses some swaps)."""
    interim = 0
    for char in body:
        interim = _times_x(interim) ^ ALPHABET.index(char)
    return ALPHABET[_times_x(interim)]


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
