"""Text from outside (answers, file names) made harmless before it is stored or shown."""

from __future__ import annotations

import re

# ANSI escape sequences (CSI, OSC and two-character ESC sequences), C0/C1 controls except tab and
# newline, and the bidi embedding, override and isolate controls. Right-to-left marks stay.
_ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str) -> str:
    return _CONTROLS.sub("", _ANSI.sub("", text))
