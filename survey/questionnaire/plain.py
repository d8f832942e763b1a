"""Plain-language check: is every text a respondent reads plain enough for a B1 reader?

Run by `survey validate` over the Dutch and English texts of a questionnaire (items, intros,
section headers, options, ...) and over the tool's own form wording. It never blocks:
every finding is a warning with its file and line. The measures and thresholds, with their
sources, are in docs/plain-language.md; the constants below name them.

Heuristics, not grammar: there is no parser here. Each check is tuned to miss rather than to
nag (a false warning teaches a consultant to ignore the check), and the tests hold it to
published before/after examples.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from survey.errors import Location, Problem

# -- thresholds (sources in docs/plain-language.md)
MAX_SENTENCE_WORDS = 20  # U.S. Census Bureau / Federal Plain Language Guidelines: ~20 words
RARE_ZIPF = 3.0  # van Heuven et al. (2014): Zipf 1-3 are the low-frequency words
LONG_SYLLABLES = 6  # a word this long that is also not a high-frequency word (Zipf < 4)
HIGH_FREQUENCY_ZIPF = 4.0  # van Heuven et al. (2014): Zipf 4-7 are the high-frequency words
B1_READING_EASE = 70.0  # Flesch (1948) "fairly easy" / Douma (1960) "tamelijk gemakkelijk"
B1_WORDS_PER_MINUTE = 100  # second-language readers (Jensen 1986, in Anderson 1999)
CHECKED_LANGUAGES = ("nl", "en")

# Flesch (1948) and Douma (1960) publish their scores in bands; we report the band.
BANDS = {
    "nl": [(90, "zeer gemakkelijk"), (80, "gemakkelijk"), (70, "tamelijk gemakkelijk"), (60, "normaal"),
           (45, "tamelijk moeilijk"), (30, "moeilijk"), (float("-inf"), "zeer moeilijk")],
    "en": [(90, "very easy"), (80, "easy"), (70, "fairly easy"), (60, "standard"),
           (50, "fairly difficult"), (30, "difficult"), (float("-inf"), "very difficult")],
}
MEASURE = {"nl": "Flesch-Douma", "en": "Flesch reading ease"}

WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*-?", re.UNICODE)
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|‘[^’]*’|“[^”]*”")
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")

# -- passive voice
NL_WORDEN = {"word", "wordt", "worden", "werd", "werden", "geworden"}
NL_ZIJN = {"ben", "bent", "is", "zijn", "was", "waren", "geweest"}
# Verbs that make their perfect with 'zijn' ("is voorgekomen" is not passive) and participles
# that are mostly used as adjectives ("ik ben gewend").
NL_NOT_PASSIVE = {
    "gegaan", "gekomen", "voorgekomen", "gebleven", "gebeurd", "geworden", "gegroeid", "gestopt",
    "begonnen", "veranderd", "vertrokken", "verdwenen", "ontstaan", "gevallen", "gestorven", "gelukt",
    "mislukt", "geslaagd", "gestegen", "gedaald", "gelopen", "gereisd", "verhuisd", "opgegroeid",
    "teruggekomen", "meegekomen", "aangekomen", "overgestapt", "gezond", "gewend", "geschikt",
    "gerust", "gelegen", "geleden", "bekend", "bereid", "verliefd", "verschillend", "benieuwd",
    "tevreden", "gewoon", "verplicht", "betrokken", "gemotiveerd", "gespannen", "ontspannen",
}
NL_PARTICIPLE = re.compile(r"^(?:[a-z]{0,6}ge[a-z]{2,}(?:d|t|en)|(?:be|ver|ont|her|er)[a-z]{3,}(?:d|t|en))$")
EN_BE = {"am", "is", "are", "was", "were", "be", "been", "being", "'m", "'re", "'s"}
EN_IRREGULAR = {
    "done", "made", "given", "taken", "kept", "known", "seen", "written", "told", "held", "brought",
    "bought", "paid", "left", "found", "shown", "chosen", "sent", "set", "put", "built", "taught",
    "thought", "heard", "met", "led", "read", "said", "spoken", "understood", "forgotten", "hidden",
    "begun", "broken", "driven", "won", "lost", "run", "cut", "hit", "let", "meant", "sold", "spent",
}
# Participles people use as adjectives ("I am interested") are not passive for a reader.
EN_ADJECTIVAL = {
    "interested", "tired", "bored", "married", "pleased", "worried", "excited", "satisfied",
    "used", "supposed", "concerned", "involved", "scared", "surprised", "prepared", "allowed",
    "required", "needed", "based", "aged", "skilled", "experienced", "qualified", "motivated",
    "engaged", "employed", "retired", "located", "limited", "divorced", "stressed", "committed",
}
EN_ADVERBS = {"not", "often", "always", "never", "usually", "also", "still", "mostly", "only", "already",
              "sometimes", "really", "being", "n't"}

# -- double questions
QUESTION_WORDS = {
    "nl": {"wat", "wie", "welk", "welke", "waar", "waarom", "wanneer", "hoe", "hoeveel", "waarmee",
           "waarover", "waarvoor", "waardoor", "waaraan"},
    "en": {"what", "who", "whom", "which", "where", "why", "when", "how", "whose"},
}
AND = {"nl": {"en"}, "en": {"and"}}
OR = {"nl": {"of"}, "en": {"or"}}
AUXILIARIES = {
    "nl": {"ben", "bent", "is", "zijn", "heb", "hebt", "heeft", "hebben", "wil", "wilt", "wilde", "kun",
           "kunt", "kan", "zou", "zal", "zul", "moet", "mag", "doe", "doet", "vind", "vindt", "weet",
           "ga", "gaat", "krijg", "krijgt", "voel", "voelt"},
    "en": {"do", "does", "did", "is", "are", "am", "was", "were", "have", "has", "had", "can", "could",
           "will", "would", "should", "may", "might", "must"},
}
PRONOUNS = {
    "nl": {"je", "jij", "u", "ik", "we", "wij", "ze", "zij", "hij", "het", "jullie", "er"},
    "en": {"you", "i", "we", "they", "he", "she", "it", "there"},
}

# -- negation
NEGATIONS = {
    "nl": {"niet", "geen", "nooit", "niets", "niks", "niemand", "nergens", "noch", "zonder", "onmogelijk",
           "onduidelijk", "oneens", "ontevreden", "onwaar", "onbekend", "ongewoon", "onvoldoende",
           "onwaarschijnlijk", "ongebruikelijk", "onjuist"},
    "en": {"not", "no", "never", "nothing", "nobody", "none", "nowhere", "neither", "nor", "without",
           "unlikely", "unclear", "unhappy", "unable", "unusual", "uncommon", "disagree", "impossible",
           "incorrect", "unknown", "insufficient"},
}


# ----------------------------------------------------------------------------- what is checked

@dataclass
class TextUnit:
    """One text a respondent reads, in one language, with where it is written."""

    text: str
    lang: str
    where: Location
    role: str = "text"  # "text" (explained by the element's explanation) or "explanation"
    element: int = 0  # texts of one element (item, section, ...) share a number
    verbatim: bool = False
    read: bool = True  # an employee reads it on the form (counted in the reading time)


@dataclass
class LongSentence:
    words: int
    sentence: str
    where: Location


@dataclass
class LanguageSummary:
    """The per-questionnaire summary of one language."""

    lang: str
    words: int
    sentences: int
    reading_ease: float | None
    level: str
    b1: bool
    minutes: float
    longest: list[LongSentence] = field(default_factory=list)
    verbatim_texts: int = 0

    @property
    def words_per_sentence(self) -> float:
        return self.words / self.sentences if self.sentences else 0.0

    def describe(self) -> str:
        verdict = "B1 or easier" if self.b1 else "harder than B1"
        ease = f"{MEASURE[self.lang]} {self.reading_ease:.0f} ({self.level}, {verdict})" \
            if self.reading_ease is not None else "no text to measure"
        lines = [f"plain language ({self.lang}): {ease}; {self.words} words in {self.sentences} sentences "
                 f"({self.words_per_sentence:.1f} per sentence); reading time about "
                 f"{max(1, round(self.minutes))} min at {B1_WORDS_PER_MINUTE} words a minute"
                 + (f"; {self.verbatim_texts} verbatim text(s) not checked" if self.verbatim_texts else "")]
        for long in self.longest:
            lines.append(f"  longest: {long.words} words, {long.where}: {long.sentence}")
        return "\n".join(lines)


@dataclass
class PlainReport:
    warnings: list[Problem]
    summaries: list[LanguageSummary]


# ----------------------------------------------------------------------------- word lists

@lru_cache(maxsize=1)
def builtin_jargon() -> dict[str, dict[str, str]]:
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load((Path(__file__).parent / "jargon.yaml").read_text(encoding="utf-8"))
    return {lang: {str(k): str(v) for k, v in (terms or {}).items()} for lang, terms in data.items()}


def _term_pattern(term: str) -> re.Pattern:
    parts = []
    for word in term.split():
        if word.endswith("*"):
            parts.append(re.escape(word[:-1]) + r"[^\W\d_]*")
        else:
            parts.append(re.escape(word))
    return re.compile(r"(?<![\w-])" + r"\s+".join(parts) + r"(?![\w-])", re.IGNORECASE)


@lru_cache(maxsize=8)
def _zipf(word: str, lang: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, lang)


def _forms(word: str, lang: str) -> set[str]:
    """The word and simple inflections of it: wordfreq counts word forms, and a reader who knows
    'arrange' reads 'arranges' (an approximation of the lemma frequency SUBTLEX gives)."""
    forms = {word}
    if lang == "en":
        word = re.sub(r"'s$|s'$", "", word)
        forms.add(word)
        for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""),
                             ("ing", "e")):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                forms.add(word[: len(word) - len(suffix)] + repl)
    else:
        word = re.sub(r"'s$", "", word)
        forms |= {word, word + "en", word + "t", word + "e"}
        # Dutch spelling of the infinitive: 'spreek' -> 'spreken', 'bel' -> 'bellen'
        forms.add(re.sub(r"(aa|ee|oo|uu)([^aeiou])$", lambda m: m.group(1)[0] + m.group(2) + "en", word))
        if re.search(r"[aeiou][^aeiou]$", word):
            forms.add(word + word[-1] + "en")
        for suffix in ("en", "t", "d", "e", "s", "te", "de", "ten", "den"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                stem = word[: len(word) - len(suffix)]
                forms |= {stem, stem + "en"}
    return forms


def word_frequency(word: str, lang: str) -> float:
    """Zipf frequency of the word's most frequent simple form; a Dutch compound counts as its
    rarer part (readers read it by its parts)."""
    word = word.lower().strip("-").replace("’", "'")
    best = max(_zipf(form, lang) for form in _forms(word, lang))
    if best >= RARE_ZIPF or lang != "nl" or len(word) < 7:
        return best
    for cut in range(3, len(word) - 2):
        left, right = word[:cut], word[cut:]
        right_f = _zipf(right, lang)
        if right_f < RARE_ZIPF:
            continue
        for stem in {left, left.removesuffix("s"), left.removesuffix("en"), left.removesuffix("e")}:
            if len(stem) >= 3:
                best = max(best, min(max(_zipf(f, lang) for f in _forms(stem, lang)), right_f))
    return best


@lru_cache(maxsize=2048)
def syllables(word: str, lang: str) -> int:
    if lang == "en":
        import textstat

        return max(1, int(_textstat("en").syllable_count(word)))
    import pyphen

    return len(pyphen.Pyphen(lang="nl").positions(word.lower())) + 1


@lru_cache(maxsize=2)
def _textstat(lang: str):
    from textstat.textstat import textstatistics

    ts = textstatistics()
    ts.set_lang(lang)
    return ts


def reading_ease(text: str, lang: str) -> float | None:
    """Flesch reading ease (English) or Flesch-Douma (Dutch), as textstat computes them."""
    if not text.strip():
        return None
    return float(_textstat(lang).flesch_reading_ease(text))


def band(score: float, lang: str) -> str:
    for floor, name in BANDS[lang]:
        if score >= floor:
            return name
    return BANDS[lang][-1][1]


# ----------------------------------------------------------------------------- sentences

def sentences(text: str) -> list[str]:
    """Split at . ! ? followed by a space or the end; a list number ('1.') and abbreviations
    ('t.a.v.') do not end a sentence."""
    text = PLACEHOLDER.sub("X", " ".join(text.split()))
    found: list[str] = []
    start = 0
    for match in re.finditer(r"[.!?]+(?=\s|$)", text):
        before = text[start:match.start()].split()
        last = before[-1] if before else ""
        numbering = last.isdigit() and len(before) == 1  # '1. Wie neemt ...': a list number, not a sentence
        if match.group() == "." and (numbering or re.fullmatch(r"(?:[a-zA-Z]\.)+[a-zA-Z]?", last)):
            continue
        piece = text[start:match.end()].strip()
        if piece:
            found.append(piece)
        start = match.end()
    rest = text[start:].strip()
    if rest:
        found.append(rest)
    return found


def words(text: str) -> list[str]:
    return [w for w in WORD.findall(text)]


# ----------------------------------------------------------------------------- the checks

@dataclass
class Finding:
    kind: str
    what: str
    fix: str | None = None
    terms: tuple[str, ...] = ()  # words or phrases an explanation on the form can cover


def _explained_inline(sentence: str, term: str) -> bool:
    """'bila (een kort gesprek ...)': a term followed, within its phrase, by a bracket; a term in
    brackets after the plain words; or a label that opens the text and a colon
    ('Zingeving: kun je ... doen dat je belangrijk vindt?')."""
    if re.match(r"\s*" + re.escape(term) + r"\s*:\s*\S", sentence, re.IGNORECASE):
        return True
    for match in re.finditer(re.escape(term), sentence, re.IGNORECASE):
        if sentence[:match.start()].count("(") > sentence[:match.start()].count(")"):
            return True  # 'een gesprek over je werk (functioneringsgesprek)': plain words first, term in brackets
        after = sentence[match.end():]
        head = re.match(r"((?:\s*[^\W\d_][\w'’-]*){0,4})\s*\(", after)
        if head and not re.search(r"[,.;:?!]", head.group(1)):
            return True
    return False


def check_sentence(sentence: str, lang: str, jargon: dict[str, str]) -> list[Finding]:
    findings: list[Finding] = []
    plain = QUOTED.sub(" ", sentence)  # quoted answer labels ('Weet ik niet') are not the sentence
    tokens = [w.lower().strip("-") for w in words(sentence)]
    n = len(tokens)
    if n > MAX_SENTENCE_WORDS:
        findings.append(Finding("sentence", f"sentence of {n} words (more than {MAX_SENTENCE_WORDS})",
                                "split it into two sentences"))
    covered: set[str] = set()
    for term, instead in jargon.items():
        for match in _term_pattern(term).finditer(sentence):
            found = match.group()
            covered.update(w.lower() for w in words(found))
            if not _explained_inline(sentence, found):
                findings.append(Finding("jargon", f"'{found}' is jargon or an idiom",
                                        f"write '{instead}' or explain it on the form" if instead
                                        else "use an everyday word or explain it on the form", (found,)))
    seen: set[str] = set()
    for word in words(sentence):
        key = word.lower().strip("-")
        if key in seen or key in covered or len(key) < 3 or word.isupper():
            continue
        seen.add(key)
        freq = word_frequency(key, lang)
        if freq < RARE_ZIPF:
            if not _explained_inline(sentence, word):
                findings.append(Finding("word", f"'{word.strip('-')}' is a rare word (frequency {freq:.1f} "
                                        f"on the Zipf scale, below {RARE_ZIPF:.0f})",
                                        "use a more common word, or explain it in brackets", (word.strip("-"),)))
        elif freq < HIGH_FREQUENCY_ZIPF and syllables(key, lang) >= LONG_SYLLABLES:
            if not _explained_inline(sentence, word):
                findings.append(Finding("word", f"'{word.strip('-')}' is a long word ({syllables(key, lang)} "
                                        "syllables) that is not common", "use a shorter word, or explain it",
                                        (word.strip("-"),)))
    passive = _passive(tokens, lang)
    if passive:
        findings.append(Finding("passive", f"passive voice ('{passive}')",
                                "say who does it: 'my manager writes it down', not 'it is written down'"))
    double = _double_question(sentence, tokens, lang)
    if double:
        findings.append(Finding("double", f"two questions in one ('... {double} ...')",
                                "ask them as two questions, each with its own answer"))
    for clause in re.split(r"[,;:–—]", plain):  # 'Nobody sees it, not even your manager' repeats, not doubles
        negations = [t for t in (w.lower() for w in words(clause)) if t in NEGATIONS[lang]]
        negations += ["n't"] * len(re.findall(r"n['’]t\b", clause, re.IGNORECASE)) if lang == "en" else []
        if len(negations) >= 2:
            findings.append(Finding("negation", f"double negation ({', '.join(negations)})",
                                    "say it positively, e.g. 'at least' instead of 'not less than'"))
            break
    return findings


def mentions(text: str, term: str) -> bool:
    """Does `text` name `term`? A word also counts when one is the start of the other
    ('functionerings-' and 'functioneringsgesprek')."""
    if " " in term.strip():
        return bool(_term_pattern(term).search(text))
    key = term.lower().strip("-")
    for word in words(text):
        other = word.lower().strip("-")
        if other == key or (min(len(other), len(key)) >= 6 and (other.startswith(key) or key.startswith(other))):
            return True
    return False


def _passive(tokens: list[str], lang: str) -> str | None:
    """A form of worden/zijn (nl) or be (en) followed in its clause by a past participle."""
    for index, token in enumerate(tokens):
        if lang == "nl" and (token in NL_WORDEN or token in NL_ZIJN):
            for follower in tokens[index + 1:index + 9]:
                if follower in NL_WORDEN | NL_ZIJN:
                    break
                if follower in NL_NOT_PASSIVE or not NL_PARTICIPLE.match(follower):
                    continue
                if token in NL_ZIJN and not follower.startswith(("ge",)) and "ge" not in follower[:8]:
                    continue  # 'is bekend', 'zijn verschillend': zijn + be-/ver- words are mostly adjectives
                return f"{token} ... {follower}"
        if lang == "en" and token in EN_BE:
            for follower in tokens[index + 1:index + 4]:
                if follower in EN_ADVERBS:
                    continue
                if follower in EN_ADJECTIVAL:
                    break
                if (follower.endswith("ed") and len(follower) > 4) or follower in EN_IRREGULAR:
                    return f"{token} {follower}"
                break
    return None


def _double_question(sentence: str, tokens: list[str], lang: str) -> str | None:
    """One question mark, two questions: 'and'/'en' + a question word or a verb and pronoun
    ('and do you ...'), or 'or'/'of' + a question word, each side at least three words."""
    if not sentence.rstrip().endswith("?"):
        return None
    last_split = 0
    for index, token in enumerate(tokens[:-1]):
        following = tokens[index + 1]
        new_question = following in QUESTION_WORDS[lang]
        if token in AND[lang] and not new_question and index + 2 < len(tokens):
            new_question = following in AUXILIARIES[lang] and tokens[index + 2] in PRONOUNS[lang]
        if (token in AND[lang] or token in OR[lang]) and new_question:
            if index - last_split >= 3 and len(tokens) - index - 1 >= 3:
                return f"{token} {following}"
            last_split = index + 1
    return None


# ----------------------------------------------------------------------------- a questionnaire

def check_units(units: list[TextUnit], jargon: dict[str, dict[str, str]]) -> PlainReport:
    warnings: list[Problem] = []
    by_element: dict[int, list[TextUnit]] = {}
    for unit in units:
        by_element.setdefault(unit.element, []).append(unit)
    for unit in units:
        if unit.verbatim or unit.lang not in CHECKED_LANGUAGES:
            continue
        others = [u for u in by_element[unit.element] if u is not unit and u.lang == unit.lang
                  and u.role != unit.role]
        for sentence in sentences(unit.text):
            for finding in check_sentence(sentence, unit.lang, jargon.get(unit.lang, {})):
                if finding.terms and any(
                        mentions(other.text, term) for term in finding.terms for other in others):
                    continue  # explained on the form beside it (or this is the explanation)
                warnings.append(Problem(f"plain language ({unit.lang}): {finding.what}: \"{sentence}\"",
                                        unit.where, finding.fix, severity="warning"))
    summaries = [summarise(lang, [u for u in units if u.lang == lang]) for lang in CHECKED_LANGUAGES
                 if any(u.lang == lang for u in units)]
    for summary in summaries:
        if summary.reading_ease is not None and not summary.b1:
            first = next(u for u in units if u.lang == summary.lang)
            warnings.append(Problem(
                f"plain language ({summary.lang}): {MEASURE[summary.lang]} {summary.reading_ease:.0f} for the "
                f"whole questionnaire ({summary.level}), below {B1_READING_EASE:.0f} (about B1)",
                Location(file=first.where.file), "shorten the sentences and words the warnings name",
                severity="warning"))
    return PlainReport(warnings, summaries)


def summarise(lang: str, units: list[TextUnit]) -> LanguageSummary:
    checked = [u for u in units if not u.verbatim]
    all_sentences = [(s, u.where) for u in checked for s in sentences(u.text)]
    # Readability over the running text; headers without a full stop are read as sentences too.
    running = " ".join(s if s[-1] in ".!?" else s + "." for s, _ in all_sentences)
    total_words = sum(len(words(s)) for s, _ in all_sentences)
    score = reading_ease(running, lang)
    read_words = sum(len(words(s)) for u in units if u.read for s in sentences(u.text))
    longest = sorted(((len(words(s)), s, where) for s, where in all_sentences), key=lambda t: -t[0])[:3]
    return LanguageSummary(
        lang=lang, words=total_words, sentences=len(all_sentences), reading_ease=score,
        level=band(score, lang) if score is not None else "-",
        b1=score is None or score >= B1_READING_EASE, minutes=read_words / B1_WORDS_PER_MINUTE,
        longest=[LongSentence(n, s, where) for n, s, where in longest],
        verbatim_texts=sum(1 for u in units if u.verbatim))


def merged_jargon(extra: Iterable[dict[str, Any]]) -> dict[str, dict[str, str]]:
    jargon = {lang: dict(terms) for lang, terms in builtin_jargon().items()}
    for more in extra:
        for lang, terms in (more or {}).items():
            target = jargon.setdefault(lang, {})
            if isinstance(terms, dict):
                target.update({str(k): str(v) if v else "" for k, v in terms.items()})
            else:
                target.update({str(t): "" for t in terms or []})
    return jargon


# ----------------------------------------------------------------------------- collecting texts

EXPLANATION_KEYS = {"help", "intro", "manager_intro", "description", "introduction"}
TEXT_KEYS = {"title", "introduction", "text", "manager_text", "intro", "manager_intro", "name", "description",
             "label", "manager_label", "not_applicable", "help"}
# The tool's own wording that a respondent reads on an Excel or paper form (reports/wording/).
FORM_WORDING_KEYS = (
    "form_sheet", "department", "role_employee", "role_manager", "form_instruction", "form_thanks",
    "form_handout", "form_return", "form_contact", "form_privacy", "about_you", "about_you_intro", "statement",
    "question", "your_answer", "answer_now", "answer_desired", "situation", "grid_initiative", "grid_effect",
    "grid_effect_manager", "tick_all", "tick_yes", "invalid_title", "invalid_answer", "paper_form_id",
    "paper_instruction", "paper_tick_all", "paper_office", "paper_now", "paper_desired", "paper_thanks")


def questionnaire_units(source: Any, languages: Iterable[str], top: bool = True) -> list[TextUnit]:
    """Every text of one parsed questionnaire file (a loader `SourceFile`), with its line.
    `top`: the file the scan names (an included file's own title and introduction are not shown)."""
    units: list[TextUnit] = []
    wanted = set(languages)

    def read(path: tuple, key: str) -> bool:
        """Does an employee read this on the form? Not the managers' wording, not the report's
        dimension and score names, not an included file's own title."""
        if key.startswith("manager_") or (path and path[0] in ("dimensions", "derived")):
            return False
        return top or bool(path)

    def visit(node: Any, path: tuple) -> None:
        if isinstance(node, dict):
            element = id(node)  # the texts of one mapping belong to one element
            verbatim = node.get("verbatim") is True
            for key, value in node.items():
                if key in TEXT_KEYS and isinstance(value, dict):
                    role = "explanation" if key in EXPLANATION_KEYS else "text"
                    for lang, text in value.items():
                        if isinstance(text, str) and lang in wanted:
                            units.append(TextUnit(text, lang, source.where(path + (key, lang)), role, element,
                                                  verbatim and key != "help", read(path, key)))
                elif key == "anchors" and isinstance(value, dict):
                    for anchor, texts in value.items():
                        for lang, text in (texts or {}).items() if isinstance(texts, dict) else ():
                            if isinstance(text, str) and lang in wanted:
                                units.append(TextUnit(text, lang, source.where(path + (key, anchor, lang)),
                                                      "text", element, verbatim, read(path, key)))
                elif key != "plain_language":
                    visit(value, path + (key,))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                visit(value, path + (index,))

    visit(source.data, ())
    return units


def wording_units(languages: Iterable[str]) -> list[TextUnit]:
    """The tool's own form wording, from reports/wording/<lang>.yaml, with its line."""
    from ruamel.yaml import YAML

    from survey.resources import reports_dir

    units: list[TextUnit] = []
    for lang in languages:
        path = reports_dir() / "wording" / f"{lang}.yaml"
        if lang not in CHECKED_LANGUAGES or not path.is_file():
            continue
        data = YAML(typ="rt").load(path.read_text(encoding="utf-8"))
        for key in FORM_WORDING_KEYS:
            if key in data:
                line, column = data.lc.value(key)
                on_excel_form = not key.startswith("paper_") and "manager" not in key
                units.append(TextUnit(str(data[key]), lang, Location(file=path, line=line + 1, column=column + 1),
                                      "text", -1, read=on_excel_form))
    return units
