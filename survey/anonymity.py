"""Kept for code that imports the old names; the disclosure rules live in survey/disclosure.py."""

from __future__ import annotations

from survey.disclosure import Suppression, hide_groups

__all__ = ["Suppression", "protect"]


def protect(counts: dict[str, int], threshold: int, table: str,
            log: list[Suppression] | None = None, already_hidden: set[str] | frozenset = frozenset()) -> set[str]:
    """Groups of `counts` that are not shown (see `disclosure.hide_groups`), plus empty ones."""
    hidden = hide_groups({g: n for g, n in counts.items() if g not in already_hidden}, threshold)
    if log is not None:
        log.extend(Suppression(table, h.name, "fewer than threshold answers" if h.reason == "small"
                               else "hidden too, so that a smaller group cannot be worked out by subtraction")
                   for h in hidden.values())
    return set(hidden) | set(already_hidden) | {g for g, n in counts.items() if n == 0}
