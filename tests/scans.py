"""What several test modules share: pieces of a bilingual (en, nl) test questionnaire and
small helpers. Each module puts its own questionnaire together from these pieces and its own
lines (they differ on purpose: other items, scales, labels)."""

from __future__ import annotations

import os

from survey.store import Store


def header(questionnaire_id: str, title: str) -> str:
    """The lines of a questionnaire up to `scales:`; `title` is YAML, e.g. "{en: T, nl: T}"."""
    return f'id: {questionnaire_id}\nversion: "1.0"\nlanguages: [en, nl]\ntitle: {title}\nscales:\n'


# --- scales (each under `scales:`) -------------------------------------------------------------

AGREE5 = """\
  agree5:
    kind: ordinal
    options:
      - {code: 1, label: {en: Strongly disagree, nl: Helemaal oneens}}
      - {code: 2, label: {en: Disagree, nl: Oneens}}
      - {code: 3, label: {en: Neutral, nl: Neutraal}}
      - {code: 4, label: {en: Agree, nl: Eens}}
      - {code: 5, label: {en: Strongly agree, nl: Helemaal eens}}
"""

INITIATIVE = """\
  initiative:
    kind: nominal
    options:
      - {code: self, label: {en: I myself, nl: Ikzelf}}
      - {code: together, label: {en: Together, nl: Samen}}
      - {code: manager, label: {en: My manager, nl: Mijn leidinggevende}}
      - {code: organisation, label: {en: The organisation, nl: De organisatie}}
    not_applicable: {en: Does not happen, nl: Komt niet voor}
"""

PACE_EFFECT = """\
  pace_effect:
    kind: nominal
    options:
      - {code: speeds_up, label: {en: Speeds me up, nl: Helpt mij vooruit}}
      - {code: no_effect, label: {en: No effect, nl: Geen invloed}}
      - {code: brakes, label: {en: Brakes me, nl: Remt mij af}}
"""

ROLE = """\
  role:
    kind: nominal
    options:
      - {code: employee, label: {en: Employee, nl: Medewerker}}
      - {code: manager, label: {en: Manager, nl: Leidinggevende}}
"""

# --- the rest ----------------------------------------------------------------------------------

DRIVES_AND_PACE = """\
dimensions:
  drives: {name: {en: Drives, nl: Kar}}
  pace: {name: {en: Pace, nl: Tempo}}
"""

# an item of a section: who takes the initiative, and the effect on the pace, per situation
# (the situations follow)
GRID = """\
      - id: grid
        type: situation_grid
        initiative_scale: initiative
        effect_scale: pace_effect
        text: {en: Situations, nl: Situaties}
        situations:
"""
GRID_TALK_COURSE = GRID + """\
          - {id: talk, text: {en: Talk, nl: Gesprek}}
          - {id: course, text: {en: Course, nl: Cursus}}
"""

ROLE_BACKGROUND = """\
background:
  - {id: role, text: {en: Role, nl: Rol}, scale: role, source: form, reporting: compare}
"""


# --- helpers -----------------------------------------------------------------------------------

def outcomes(scan) -> dict[str, tuple[str, str | None]]:
    """File name -> (outcome, reason) of every file collect has seen."""
    with Store(scan.store_path) as store:
        return {os.path.basename(r.path): (r.outcome, r.reason) for r in store.received()}
