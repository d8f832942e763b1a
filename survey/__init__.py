"""survey: an organisational self-diagnosis scan.

Questionnaire (YAML) -> Excel forms -> collected store -> analysis -> HTML/PDF report.
"""

__version__ = "0.1.0"

import os as _os

# openpyxl writes through lxml when it is installed (python-pptx, for the slide deck, brings
# it), and then lays out a sheet's XML differently (an empty cell as <c ...></c>); forms, the
# reader's fast path and the tests expect its own writer's layout, so it is kept whatever is
# installed. Set before any module imports openpyxl (it reads this once, at import).
_os.environ.setdefault("OPENPYXL_LXML", "False")
