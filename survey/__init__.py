"""survey: an organisational self-diagnosis scan.

Questionnaire (YAML) -> Excel forms -> collected store -> analysis -> HTML/PDF report.
"""

__version__ = "0.1.0"
