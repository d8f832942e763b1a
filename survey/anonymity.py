"""Anonymity, enforced in one place.

Every figure the analysis hands on passes through `protect`: a group smaller than the
threshold is hidden, and when the hidden groups together are still smaller than the
threshold while a total is shown, the next smallest groups are hidden as well
(complementary suppression), so no small group can be worked out by subtraction.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Suppression:
    table: str
    group: str
    reason: str


def protect(counts: dict[str, int], threshold: int, table: str,
            log: list[Suppression] | None = None, already_hidden: set[str] | frozenset = frozenset()) -> set[str]:
    """Groups of `counts` whose figure must not be shown in `table` (a total is shown too).

    `already_hidden` are groups hidden elsewhere (e.g. whole departments); they count towards
    what a reader could work out by subtraction.
    """
    hidden = {g for g, n in counts.items() if 0 < n < threshold}
    for group in sorted(hidden):
        if log is not None:
            log.append(Suppression(table, group, f"fewer than {threshold} answers"))
    hidden |= {g for g in already_hidden if counts.get(g, 0) > 0}
    if hidden and sum(counts[g] for g in hidden) < threshold:
        for group in sorted((g for g in counts if g not in hidden and counts[g] > 0), key=lambda g: (counts[g], g)):
            hidden.add(group)
            if log is not None:
                log.append(Suppression(table, group, "hidden too, so that a smaller group cannot be "
                                                     "worked out by subtraction"))
            if sum(counts[g] for g in hidden) >= threshold:
                break
    hidden.update(g for g, n in counts.items() if n == 0)
    return hidden
