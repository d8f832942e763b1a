"""Where the bundled content lives: inside the wheel, or at the top of a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def content_dir(name: str) -> Path:
    """Folder of bundled content: 'questionnaires', 'reports' or 'sample_data'."""
    installed = _PACKAGE / "_content" / name
    if installed.is_dir():
        return installed
    checkout = _PACKAGE.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"bundled content folder '{name}' is missing from the installation")


def questionnaires_dir() -> Path:
    return content_dir("questionnaires")


def reports_dir() -> Path:
    return content_dir("reports")


def sample_data_dir() -> Path:
    return content_dir("sample_data")
