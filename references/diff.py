"""Side-by-side differences of two records, for the duplicate review queue, and why a pair
is there: which fields agree, which differ (and whether only in letter case, punctuation
or spacing), which one record lacks, and the rule that sent it to a person. The queue,
the pair page and the group decisions all read one comparison, `compare_fields`."""

import difflib
import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from . import dedup
from .deduplication import RULE_SENTENCES

TOKEN = re.compile(r"\s+|[^\s]+")

COMPARED = [
    ("title", "Title"), ("authors", "Authors"), ("year", "Year"), ("journal", "Journal"),
    ("volume", "Volume"), ("issue", "Issue"), ("pages", "Pages"), ("doi", "DOI"),
    ("pmid", "PMID"), ("publication_type", "Type"), ("source", "Source"),
    ("abstract", "Abstract"),
]
# The fields that say whether two records are one work: the explanation and the signature.
EXPLAINED = [(name, label) for name, label in COMPARED
             if name not in ("publication_type", "source")]
EXPLAINED_FIELDS = [name for name, _label in EXPLAINED]
LABELS = dict(COMPARED)

SAME, FORMATTING, DIFFERS, MISSING = "same", "formatting", "differs", "missing"
# Differences that do not change what a field says, tried smallest set first.
FORMATS = ("case", "punctuation", "spacing")
FORMAT_WORDS = {"case": "letter case", "punctuation": "punctuation", "spacing": "spacing"}
_FORMAT_SETS = [set_ for size in (1, 2, 3) for set_ in combinations(FORMATS, size)]
_PUNCTUATION = re.compile(r"[^\w\s]|_")
_ASCII_PUNCTUATION = str.maketrans("", "", string.punctuation)


def _text(record, name: str) -> str:
    value = getattr(record, name)
    if name == "authors":
        return "; ".join(value or [])
    if name == "source":
        return value.name
    return "" if value is None else str(value)


def _normalised(text: str, formats: tuple[str, ...]) -> str:
    if "case" in formats:
        text = text.casefold()
    if "punctuation" in formats:
        text = (text.translate(_ASCII_PUNCTUATION) if text.isascii()
                else _PUNCTUATION.sub("", text))
    if "spacing" in formats:
        text = "".join(text.split())
    return text


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


@dataclass(frozen=True)
class FieldComparison:
    """One field of the two records: the same, different only in `formats`, different,
    or missing on one side (`missing_in`: "a" or "b")."""

    name: str
    outcome: str
    formats: tuple[str, ...] = ()
    missing_in: str = ""

    @property
    def label(self) -> str:
        return LABELS[self.name]

    @property
    def kind(self) -> str:
        """The kind of difference, as the signature names it: "case-punctuation", ..."""
        return "-".join(self.formats) if self.outcome == FORMATTING else self.outcome

    @property
    def note(self) -> str:
        if self.outcome == SAME:
            return "agrees"
        if self.outcome == FORMATTING:
            return "differs only in " + _and([FORMAT_WORDS[f] for f in self.formats])
        if self.outcome == MISSING:
            return "missing on one side"
        return "differs"


def compare_field(name: str, a: str, b: str) -> FieldComparison | None:
    """How the field `name` of two records compares (None: neither record has it)."""
    a, b = a.strip(), b.strip()
    if not a and not b:
        return None
    if a == b:
        return FieldComparison(name, SAME)
    if not a or not b:
        return FieldComparison(name, MISSING, missing_in="a" if not a else "b")
    if _normalised(a, FORMATS) != _normalised(b, FORMATS):
        return FieldComparison(name, DIFFERS)  # most differences: one pass, not seven
    for formats in _FORMAT_SETS:
        if _normalised(a, formats) == _normalised(b, formats):
            return FieldComparison(name, FORMATTING, formats=formats)
    return FieldComparison(name, DIFFERS)


def compare_fields(a, b) -> tuple[FieldComparison, ...]:
    """Every explained field (title, authors, year, journal, volume, issue, pages, DOI,
    PMID, abstract) that at least one of the records has."""
    return tuple(c for name in EXPLAINED_FIELDS
                 if (c := compare_field(name, _text(a, name), _text(b, name))) is not None)


def rule_sentence(rule: str, reasons: Iterable[str] = ()) -> str:
    """The rule that sent a pair to a person, as a sentence a lead reads."""
    sentences = {**RULE_SENTENCES, **getattr(dedup, "RULES", {})}
    if rule in sentences:
        return sentences[rule]
    reasons = list(reasons)
    if reasons:
        return "The matching was not sure: " + "; ".join(reasons) + "."
    return "Asked before the queue recorded why."


@dataclass(frozen=True)
class Signature:
    """What makes pairs alike for a group decision: the rule that sent them and the fields
    that differ, each with the kind of difference."""

    rule: str
    differences: tuple[tuple[str, str], ...]  # (field, kind), in the order of EXPLAINED

    @property
    def key(self) -> str:
        """The signature as one URL-safe string: "below_certain,journal=case,doi=missing"."""
        return ",".join([self.rule or "none"] + [f"{n}={k}" for n, k in self.differences])

    @property
    def sentence(self) -> str:
        return rule_sentence(self.rule)

    @property
    def description(self) -> str:
        """"Journal differs only in letter case; DOI missing on one side"."""
        if not self.differences:
            return "Every field both records have agrees"
        return "; ".join(f"{LABELS[name]} {_kind_note(kind)}"
                         for name, kind in self.differences)


def _kind_note(kind: str) -> str:
    """The note of a signature's kind of difference ("case-spacing" -> "differs only in
    letter case and spacing")."""
    if kind in (DIFFERS, MISSING):
        return FieldComparison("", kind).note
    return FieldComparison("", FORMATTING, formats=tuple(kind.split("-"))).note


@dataclass(frozen=True)
class Explanation:
    """Why a pair is in the queue: the rule's sentence and the fields compared."""

    rule: str
    sentence: str
    fields: tuple[FieldComparison, ...]

    def _with(self, *outcomes: str) -> list[FieldComparison]:
        return [f for f in self.fields if f.outcome in outcomes]

    @property
    def agree(self) -> list[FieldComparison]:
        return self._with(SAME)

    @property
    def disagree(self) -> list[FieldComparison]:
        """Fields that differ, in content or only in formatting."""
        return self._with(DIFFERS, FORMATTING)

    @property
    def missing(self) -> list[FieldComparison]:
        return self._with(MISSING)

    @property
    def signature(self) -> Signature:
        return Signature(self.rule, tuple((f.name, f.kind) for f in self.fields
                                          if f.outcome != SAME))


def explain(pair) -> Explanation:
    """The explanation of a DuplicateCandidate whose records are loaded (`record_a`,
    `record_b` with at least EXPLAINED_FIELDS)."""
    return Explanation(rule=pair.rule, sentence=rule_sentence(pair.rule, pair.reasons),
                       fields=compare_fields(pair.record_a, pair.record_b))


def differences(pair) -> list[dict]:
    """The fields of an explained pair that are not the same, with both plain values."""
    return [{"label": f.label, "note": f.note, "a": _text(pair.record_a, f.name),
             "b": _text(pair.record_b, f.name)}
            for f in pair.explanation.fields if f.outcome != SAME]


@dataclass
class Group:
    signature: Signature
    pairs: list  # DuplicateCandidate, each with `.explanation`


def group_by_signature(pairs: Iterable) -> list[Group]:
    """Pairs (with `.explanation` set) grouped by signature, largest group first."""
    groups: dict[str, Group] = {}
    for pair in pairs:
        signature = pair.explanation.signature
        groups.setdefault(signature.key, Group(signature, [])).pairs.append(pair)
    return sorted(groups.values(), key=lambda g: (-len(g.pairs), g.signature.key))


def word_diff(a: str, b: str) -> tuple[SafeString, SafeString]:
    """Both texts, escaped, with the words that differ wrapped in <mark>."""
    ta, tb = TOKEN.findall(a), TOKEN.findall(b)
    out_a, out_b = [], []
    matcher = difflib.SequenceMatcher(None, [t.lower() for t in ta], [t.lower() for t in tb],
                                      autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        part_a, part_b = escape("".join(ta[i1:i2])), escape("".join(tb[j1:j2]))
        if op == "equal":
            out_a.append(part_a)
            out_b.append(part_b)
            continue
        if part_a:
            out_a.append(f"<mark>{part_a}</mark>")
        if part_b:
            out_b.append(f"<mark>{part_b}</mark>")
    return mark_safe("".join(out_a)), mark_safe("".join(out_b))  # noqa: S308 (escaped above)


def compare(a, b) -> list[dict]:
    """One row per field: label, both values marked up, whether they differ, and how they
    compare (`note`, from the same comparison as the queue's; blank for type and source)."""
    rows = []
    for name, label in COMPARED:
        va, vb = _text(a, name), _text(b, name)
        if not va and not vb:
            continue
        ha, hb = word_diff(va, vb)
        comparison = compare_field(name, va, vb) if name in EXPLAINED_FIELDS else None
        rows.append({"label": label, "a": ha, "b": hb,
                     "differs": va.strip().lower() != vb.strip().lower(),
                     "note": comparison.note if comparison else ""})
    return rows
