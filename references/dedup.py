"""Duplicate detection for bibliographic records: a pure function of all of a project's records.

`find_duplicates` answers two lists: *certain* pairs, which the caller merges automatically
(clustering them with union-find), and *possible* pairs, which go to a review queue where a
lead decides. Separate reports of one study, an erratum and its article, a letter and its
reply, a conference abstract and the article it became are different works: never certain.

How it works:

1. Normalise every record once. Text is folded to lower-case ASCII words (mojibake such as
   "KÃ¶nig" repaired, accents dropped, Greek letters spelled out, HTML/LaTeX markup removed).
   Titles lose editorial notes ("[Erratum appears in ...]", "[Review]", "[German]"), outer
   translation brackets and a second-language part (kept aside as an alternative title).
   Authors become surnames plus name words; journals word lists that also match their
   abbreviations ("Curr Opin Lipidol"); pages a first and last page (spreadsheet damage like
   "06-Oct" and roman front matter repaired); volumes their main number; DOIs are pulled out of
   URLs and notes, unquoted and trimmed; ISBNs and PMIDs reduced to digits. Flags mark errata
   and corrections, letters/replies, conference abstracts and theses. Repeated field values
   (author names, journals, page strings) are normalised once per run.
2. Block: records become candidate pairs when they share a DOI, PMID or ISBN, the first or last
   32 characters of the title, a pair of the title's three rarest words, or a citation key
   (first author + first page; volume + first page). Blocks of more than 50 records are
   compared along a title-sorted window only.
3. Score: a cheap upper bound from year, volume, pages and identifiers drops pairs that cannot
   reach the review queue. The rest get evidence points: title similarity (rapidfuzz Indel,
   plus word containment for truncated or extended titles; a generic title such as
   "Editorial" or "In this issue" counts for nothing), author overlap, year, journal, volume,
   issue, first page, abstract start, DOI, PMID, ISBN, for and against. A pair is *certain* at
   `Tuning.certain` points (9) when no veto fires. The vetoes are named rules (`_VETOES`, their
   sentences in `RULES`), each a piece of contradicting evidence: no title, different PMIDs or
   DOIs, years more than one apart, different numbers in the titles ("part 1"/"part 2"), a
   generic title with nothing but the citation to tie it, titles that differ, or differ in a
   content word (another drug, method or group: spelling variants, hyphenation, typing errors,
   number formatting and a dropped Greek letter do not count), a conference abstract against
   a journal article, different authors, journals, volumes, first pages or issue numbers (pages
   a spreadsheet turned into dates are no evidence), a short title. A vetoed pair is at most
   *possible*, as is one from `Tuning.possible` points (6); `PossiblePair.rule` names the first
   veto, or "below_certain". Identifiers that several clearly different works carry (a
   supplement's DOI on each abstract, a book's ISBN on each chapter) count for nothing, and an
   issue field that numbers records instead of issues is ignored.
4. Cluster the certain pairs strongest first with a union-find that refuses any link joining
   two records a person declared not duplicates, or two records with different PMIDs, however
   long the chain; refused links become possible pairs. Possible pairs already joined by
   certain ones are dropped, and only the best one is kept between two groups.

Everything runs in one process with the standard library and rapidfuzz; the result does not
depend on the order of the input.
"""

from __future__ import annotations

import gc
import html
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations
from urllib.parse import unquote

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, Indel

__all__ = ["ABSTRACT_CHARS", "DedupRecord", "PossiblePair", "DedupResult", "RULES", "Tuning",
           "TUNING", "find_duplicates", "paused_gc"]


@dataclass(frozen=True, slots=True)
class DedupRecord:
    id: int
    title: str = ""
    abstract: str = ""
    authors: tuple[str, ...] = ()
    year: int | None = None
    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str = ""  # already lower-cased, prefix-free, may still be messy
    pmid: str = ""
    isbn: str = ""
    publication_type: str = ""  # e.g. "JOUR", "CONF", "THES", "article", "inproceedings"


@dataclass(frozen=True, slots=True)
class PossiblePair:
    a: int
    b: int
    score: float
    reasons: tuple[str, ...]  # the evidence for and against, in words
    rule: str  # why it is not certain: a key of RULES


# Why a pair went to the queue instead of being merged: the first rule that stopped it, as a
# lead reads it. The veto rules are tried in this order (see _VETOES).
RULES: dict[str, str] = {
    "no_title": "One of the records has no title, so the titles cannot be compared.",
    "different_pmid": "The two records have different PubMed ids.",
    "different_doi": "The two records have different DOIs.",
    "different_years": "The years are more than one year apart.",
    "title_numbers": "The titles carry different numbers (part 1 and part 2, phase II and "
                     "phase III).",
    "generic_title": "The title is generic (\"Editorial\", \"Reply\", \"In this issue\"): it "
                     "names a kind of item, not a work, and no identifier or page ties them.",
    "conference_vs_article": "One record is a conference abstract and the other a journal "
                             "article: separate reports of one study.",
    "titles_differ": "The titles differ too much for an automatic merge.",
    "different_title_word": "The titles differ in a word that is not a spelling variant, "
                            "typing error or function word (another drug, method or group).",
    "different_authors": "The authors differ and no identifier ties the two records.",
    "different_journal": "The journals differ and neither a first page nor an identifier "
                         "ties the two records.",
    "different_volume": "The volumes differ.",
    "different_pages": "The page ranges differ (companion papers in one issue, or one "
                       "abstract printed twice).",
    "different_issue": "The issue numbers differ.",
    "short_title": "The title is too short to tell two works apart.",
    "below_certain": "Nothing contradicts it, but the evidence is not strong enough for an "
                     "automatic merge.",
    "not_duplicate_chain": "A chain of merges would join two records a person declared not "
                           "duplicates.",
    "different_pmids_in_group": "A merge would put records with different PubMed ids in one "
                                "group.",
    "held": "Both records carry decisions of later stages (screening, extraction): only a "
            "person merges them.",
    "changed": "A record changed while the deduplication ran.",
}


@dataclass
class DedupResult:
    certain: list[tuple[int, int]]
    possible: list[PossiblePair]


@dataclass(frozen=True, slots=True)
class Tuning:
    """The numbers of the matching that were fitted on labelled data, in evidence points
    (see _points). `certain` is chosen by bench/dedup_accuracy.py --leave-one-out (tuned on
    six labelled sets, scored on the seventh; the most conservative value of the seven folds
    ships). `possible` only sizes the review queue, so no accuracy figure can tune it."""

    certain: float = 9.0  # an automatic merge needs this many points and no veto
    possible: float = 6.0  # the review queue takes pairs from here (or vetoed ones)


TUNING = Tuning()


# --------------------------------------------------------------------------------------------
# Text normalisation
# --------------------------------------------------------------------------------------------

_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta",
    "η": "eta", "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "µ": "mu",
    "ν": "nu", "ξ": "xi", "π": "pi", "ρ": "rho", "σ": "sigma", "ς": "sigma", "τ": "tau",
    "υ": "upsilon", "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega",
}
_SPECIAL = {
    "ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE", "ł": "l",
    "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "þ": "th", "ı": "i", "ĸ": "k",
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "−": "-",
    "’": "'", "‘": "'", "“": '"', "”": '"', "×": "x", "®": "", "™": "", "©": "", "°": " ",
    "≥": ">=", "≤": "<=", "±": "+-", "½": "1/2", "·": ".", "•": ".",
}
_TRANSLATE = str.maketrans(
    {**{k: f" {v} " for k, v in _GREEK.items()}, **{k.upper(): f" {v} " for k, v in _GREEK.items()
                                                     if k.upper() != k}, **_SPECIAL}
)
# Any character _TRANSLATE maps: str.translate looks up every character of the text, so it
# runs only on the texts that need it (a regex finds them far faster).
_TRANSLATABLE = re.compile("[" + re.escape("".join(chr(c) for c in _TRANSLATE)) + "]")
_MOJIBAKE_HINT = re.compile("[ÃÂâÅÄ][\x80-\xbf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u2013"
                            "\u2014\u2018\u2019\u201a\u201c\u201d\u201e\u2020\u2021\u2022\u2026"
                            "\u2030\u2039\u203a\u20ac\u2122\u02c6\u02dc\u0192]")
_INLINE_TAG = re.compile(r"</?(?:sub|sup|i|b|em|strong|u|span|scp|small|inf)\b[^<>]{0,80}>",
                         re.IGNORECASE)
_TAG = re.compile(r"<[^<>]{0,80}>")
_LATEX_CMD = re.compile(r"\\[a-zA-Z]+\s*")
# ASCII letters to lower case, digits kept, every other byte a space: fold's last step, the
# same as re.sub(r"[^a-z0-9]+", " ", s.lower()).strip() but several times faster on long texts.
_FOLD_BYTES = bytes(c + 32 if 65 <= c <= 90 else c if 97 <= c <= 122 or 48 <= c <= 57 else 32
                    for c in range(256))
_NON_DIGIT = re.compile(r"\D+")


def _fix_mojibake(s: str) -> str:
    """Repair UTF-8 text that was decoded as Latin-1/CP-1252 ("KÃ¶nig" -> "König")."""
    if not _MOJIBAKE_HINT.search(s):
        return s
    for enc in ("cp1252", "latin-1"):
        try:
            return s.encode(enc).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    # Mixed text: repair the damaged runs one by one.
    def repair(m: re.Match[str]) -> str:
        for enc in ("cp1252", "latin-1"):
            try:
                return m.group().encode(enc).decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
        return m.group()

    return re.sub("[\u00c0-\u00ff][\x80-\xbf\u0152-\u2122]{1,2}", repair, s)


def fold(s: str) -> str:
    """Lower-case ASCII words separated by single spaces: accents, punctuation, markup gone."""
    if not s:
        return ""
    if "&" in s:
        s = html.unescape(s)
    if "<" in s:
        s = _TAG.sub(" ", _INLINE_TAG.sub("", s))
    if "\\" in s:
        s = _LATEX_CMD.sub("", s)
    if not s.isascii():
        s = _fix_mojibake(s)
        if _TRANSLATABLE.search(s):
            s = s.translate(_TRANSLATE)
        s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii")
    return " ".join(s.encode("ascii").translate(_FOLD_BYTES).decode("ascii").split())


_LANGS = (
    "english|german|french|spanish|italian|russian|chinese|japanese|portuguese|polish|dutch|"
    "czech|hungarian|turkish|korean|swedish|danish|norwegian|finnish|greek|hebrew|croatian|"
    "serbian|slovak|slovene|slovenian|romanian|persian|arabic|ukrainian|bulgarian|lithuanian|"
    "latvian|estonian|icelandic|catalan|afrikaans|thai|vietnamese|indonesian|malay"
)
_LANG_SET = frozenset(_LANGS.split("|"))
# Editorial notes that databases append to a title: "[Erratum appears in ...]", "[97 refs]".
_TITLE_NOTE = re.compile(
    r"\s*\.*\s*\[(?:erratum appears|errata appear|published erratum|corrected\]|comment|"
    r"retraction|retracted|update|"
    r"corrected and republished|republished|summary for patients|expression of concern|"
    r"see comment|reprint|original report)",
    re.IGNORECASE,
)
_TITLE_TAIL = re.compile(
    r"(?:\s*\[\d+ refs?\]|\s*\[(?:review|abstract|editorial|letter|news|case reports?|"
    r"comment|(?:article in )?(?:" + _LANGS + r")(?: text| abstract)?)\]|"
    r"\s*\((?:author'?s'? transl|structured abstract|provisional abstract|abstract|"
    r"(?:article in )?(?:" + _LANGS + r")(?: text| abstract)?)\)|"
    r"[\s.]+(?:" + _LANGS + r"))\s*\.?\s*$",
    re.IGNORECASE,
)
# Web of Science marks a correction with the corrected article's citation.
_WOS_CORRECTION = re.compile(r"\(vol \d+,? (?:pg|p|pp)\.? ?[a-z]?\d+", re.IGNORECASE)
# Embase cites the corrected article after the title of a correction notice:
# "Title (New England Journal of Medicine (2009) 360 (542-544))".
_EMBASE_CORRECTION = re.compile(r"\s*\([^()]{3,120}\(\s*(?:19|20)\d\d\s*\)\s*\d[^()]{0,40}(?:\(|$)")
_RETRACTED = re.compile(r"^retracted(?: article)?\s*[:.\-]\s*", re.IGNORECASE)
_BILINGUAL = re.compile(r"\n|\s<original>\s|\]\s*to:\s", re.IGNORECASE)
_LANGUAGE_THEN_TITLE = re.compile(
    r"\.\s+(" + "|".join(w.capitalize() for w in _LANGS.split("|")) + r")\s+(?=[A-Z\[(])")
_ERRATUM = re.compile(
    r"^\W*(?:errat(?:um|a)|corrigend(?:um|a)|addend(?:um|a)|expression of concern|"
    r"publisher'?s? note|notice of (?:retraction|withdrawal))\b|"
    # "Correction: ...", but not "Correction of scoliosis"; "Withdrawal: ...", not
    # "Withdrawal of life support".
    r"^\W*(?:corrections?|retraction|withdrawn|withdrawal)\s*(?:[:.\-\[]|to\b|notice\b|$)|"
    r"\b(?:errat(?:um|a)|corrigend(?:um|a))\b|"
    r"\bcorrection (?:to|of article|notice)\b|\bretraction (?:of article|notice|note)\b",
    re.IGNORECASE,
)
_ERRATUM_HINTS = re.compile(
    "errat|corrig|correction|retract|withdraw|concern|addend|publisher")
# BMJ's "...corr1", "...erratum" and the like: the DOI of a correction notice.
_ERRATUM_DOI = re.compile(r"[.\-/](?:corr\d*|erratum\d*|correction\d*|retraction\d*)$")
_REPLY_HINTS = re.compile("repl|respon|comment|letter|rebuttal")
# Letters, replies and comments are works of their own even when they repeat the title.
_REPLY = re.compile(
    r"^\W*(?:re|reply|response|in reply|in response|(?:the )?authors?'?s?'? (?:reply|response)|"
    r"comment|comments|commentary|letter|rebuttal)\b\s*[:.,\-]|"
    r"\b(?:reply to|response to|comment on|comments on|commentary on|in response to|"
    r"rebuttal to)\b|"
    r"[\-:.]\s*(?:(?:the )?authors?'?s?'? )?(?:reply|replies|response)\s*\.?$",
    re.IGNORECASE,
)
_ABSTRACT_VENUE = re.compile(
    r"\b(?:conference|congress|meeting|symposium|proceedings|abstracts?|sessions|"
    r"workshop|colloquium|summit|convention|suppl|supplement|poster|posters)\b",
)
_SUPPL = re.compile(r"suppl|meeting|abstract|\bs\d|\bs\b", re.IGNORECASE)
_THESIS = re.compile(r"\b(?:dissertation|dissertations|thesis|theses|ph ?d|doctoral|d ?phil)\b")
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7",
          "viii": "8", "ix": "9", "x": "10"}
_NUM_CONTEXT = frozenset(
    "part parts phase type stage grade class study trial series volume vol section no number "
    "report case cases".split()
)
_STOP = frozenset(
    "a an the of in on and or for to with by at from as is are be its their this that into "
    "via vs versus using use between among after before during under over than".split()
)
_JOURNAL_STOP = frozenset("the of and for in on de la le des der die und".split())


def clean_title(title: str) -> tuple[str, str, bool]:
    """(main title, other-language title, is a correction notice citing its article)."""
    t = (title or "").strip()
    if not t or t.startswith("#") and t.endswith(("?", "!")):  # "#NAME?": a spreadsheet error
        return "", "", False
    if t[:9].lower() == "retracted":  # "RETRACTED: title" is the article itself
        t = _RETRACTED.sub("", t, count=1) or t
    if "[" in t:
        m = _TITLE_NOTE.search(t)
        if m and m.start() > 10:
            t = t[: m.start()]
    correction = False
    if "(vol" in t or "(Vol" in t:
        m = _WOS_CORRECTION.search(t)
        if m:
            correction = True
            t = t[: m.start()]
    if t.endswith((")", "(")) or "(" in t[-120:]:
        m = _EMBASE_CORRECTION.search(t)
        if m and m.start() > 10:
            correction = True
            t = t[: m.start()]
    alt = ""
    if "\n" in t or "<" in t or "TO:" in t or "to:" in t:
        parts = _BILINGUAL.split(t, maxsplit=1)
        if len(parts) == 2 and len(parts[0].split()) >= 2:
            t, alt = parts[0], parts[1]
    if not alt and ". " in t:
        # "Title. German Originaltitel": Embase's line break lost on the way (an import that
        # joins a field's lines, a spreadsheet).
        m = _LANGUAGE_THEN_TITLE.search(t)
        if m and len(t[:m.start()].split()) >= 2:
            t, alt = t[:m.start() + 1] + " " + m.group(1), t[m.end():]
    t = t.strip().strip('"').strip()
    for _ in range(3):
        # Only a title ending in a bracket or in a language name can have a tail to strip.
        end = t.rstrip(". ")
        if not end or not (end[-1] in ")]" or end.rsplit(None, 1)[-1].lower() in _LANG_SET):
            break
        head, tail = t[:-120], t[-120:]
        t2 = (head + _TITLE_TAIL.sub("", tail)).strip()
        if t2 == t or not t2:
            break
        t = t2
    t = t.rstrip(". ").strip()
    if t.startswith("[") and (t.endswith("]") or t.endswith("].")):
        t = t.strip("[]. ")
    elif t.startswith("[") and "]" in t and t.index("]") > len(t) * 0.6:
        # "[Translated title] original-language title"
        t, alt = t[1:t.index("]")], (t[t.index("]") + 1:] + " " + alt).strip()
    return t, alt, correction


_DIGITS = re.compile(r"\d+")
_ROMAN_NUMBER = re.compile(
    r"\b(?:" + "|".join(sorted(_NUM_CONTEXT)) + r") (i|ii|iii|iv|v|vi|vii|viii|ix|x)\b")


_THOUSANDS = re.compile(r"\b(\d{1,3})((?: \d{3})+)\b")


def _title_numbers(title: str) -> frozenset[str]:
    """Numbers that tell parts, phases and editions apart ("part 2", "phase III"), from a
    folded title ("1,000" and "1000" are one number)."""
    digits = _DIGITS.findall(title)
    if len(digits) > 1:
        title = _THOUSANDS.sub(lambda m: m.group(1) + m.group(2).replace(" ", ""), title)
        digits = _DIGITS.findall(title)
    out = {d.lstrip("0") or "0" for d in digits}
    if " i" in title or " v" in title or " x" in title:
        out.update(_ROMAN[m] for m in _ROMAN_NUMBER.findall(title))
    return frozenset(out)


# Words that make a title generic: a title made of these alone ("Editorial", "Editor's
# comments", "In this issue", "Letter to the editor", "Book review") names a kind of item, not
# a work, and is never evidence that two records are one work.
_GENERIC = frozenset("""
editorial editorials editor editors comment comments commentary commentaries reply replies
response responses rejoinder erratum errata correction corrections corrigendum corrigenda
addendum retraction retracted notice notices issue issues letter letters book books review
reviews reviewer reviewers preface foreword introduction introductory note notes news
newsletter update updates abstract abstracts proceedings meeting meetings conference congress
symposium session sessions poster posters announcement announcements acknowledgement
acknowledgements acknowledgment acknowledgments obituary obituaries index contents content
table highlights highlight summary summaries overview message messages president presidential
address welcome guest invited thanks author authors expression concern discussion debate
perspective perspectives viewpoint viewpoints opinion opinions calendar event events
correspondence miscellaneous masthead front matter back cover month year week new report
reports annual column corner forum digest brief briefs case cases quiz image images reader
readers journal society official desk chair board committee memoriam tribute award awards
lecture keynote remarks closing opening special supplement series feature focus untitled
title prologue epilogue afterword appendix references bibliography conclusion conclusions
what this from our you your
""".split())


_GENERIC_OR_STOP = _GENERIC | _STOP


def _is_generic(words: Collection[str]) -> bool:
    """A title whose words are all generic, stop words or numbers."""
    if not words:
        return False
    rest = (words if isinstance(words, (set, frozenset)) else set(words)) - _GENERIC_OR_STOP
    return all(len(w) < 2 or w.isdigit() for w in rest)


# Function words that never tell two titles apart (beyond _STOP).
_WEAK = _STOP | frozenset(
    "do does did can could may might should would will is was were been being has have had it "
    "we our us they them there these those what which who whom whose how why when where whether "
    "if then so such".split())
_ROMAN_WORDS = {"ii": "2", "iii": "3", "iv": "4", "vi": "6", "vii": "7", "viii": "8", "ix": "9"}
_SPELLING = (
    # British and American spelling, one canonical form: haemorrhage/hemorrhage,
    # oesophagus/esophagus, randomised/randomized, analyse/analyze, tumour/tumor,
    # centre/center, modelling/modeling, catalogue/catalog.
    (re.compile(r"(?<=[a-z])ae|^ae(?=[a-z]{3})"), "e"),
    (re.compile(r"(?<=[a-z])oe(?=[a-z])|^oe(?=[a-z]{3})"), "e"),
    (re.compile(r"(?<=[a-z]{2})is(e|ed|es|ing|ation|ations|er|ers)$"), r"iz\1"),
    (re.compile(r"(?<=[a-z])ys(e|ed|es|ing)$"), r"yz\1"),
    (re.compile(r"(?<=[a-z]{2})our(s|ed|ing|al|ite|ites|able)?$"), r"or\1"),
    (re.compile(r"(?<=[a-z]{2})tre(s|d)?$"), r"ter\1"),
    (re.compile(r"(?<=[a-z])ll(ed|ing|er|ers)$"), r"l\1"),
    (re.compile(r"(?<=[a-z])ogue(s)?$"), r"og\1"),
)
# Greek letters that databases write as a word, glue to the next word ("NFkappaB",
# "PKCepsilon") or drop: kept apart, so that a dropped letter is not a changed word.
_GREEK_WORDS = frozenset(_GREEK.values())
_GREEK_PART = re.compile(
    r"(?:var)?(alpha|beta|gamma|delta|epsilon|kappa|lambda|sigma|omega|theta|zeta|phi)")


@lru_cache(maxsize=1 << 18)
def _canon(word: str) -> str:
    """One spelling for a title word: British/American variants, plurals, roman numerals and
    leading zeros folded together, so that only a change of word counts as a difference."""
    if word.isdigit():
        return word.lstrip("0") or "0"
    if word in _ROMAN_WORDS:
        return _ROMAN_WORDS[word]
    if word == "ss":  # β read as the German ß
        return "beta"
    if len(word) < 4:
        return word
    for pattern, repl in _SPELLING:
        word = pattern.sub(repl, word)
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def title_words(title: str) -> tuple[str, ...]:
    """A folded title as canonical words (see _canon), Greek letters as words of their own."""
    out: list[str] = []
    for w in title.split():
        if w not in _GREEK_WORDS and len(w) > 4 and _GREEK_PART.search(w):
            out.extend(_canon(p) for p in _GREEK_PART.split(w) if p)
        else:
            out.append(_canon(w))
    return tuple(out)


_NOT_LETTERS = re.compile(r"[^a-z]+")


def _unexplained(xs: Sequence[str], ys: Sequence[str]) -> list[str]:
    """Content words of title `xs` that title `ys` lacks, after hyphenation ("pre operative" /
    "preoperative"), numbers ("Ca2+" / "Ca"; title_numbers compares numbers), function words
    and a last word cut short ("resul")."""
    have = set(ys)
    have.update(_NOT_LETTERS.sub("", y) for y in ys if not y.isalpha())
    for k in range(len(ys) - 1):
        have.add(ys[k] + ys[k + 1])
        if k + 2 < len(ys):
            have.add(ys[k] + ys[k + 1] + ys[k + 2])
    out = []
    n = len(xs)
    for k, w in enumerate(xs):
        if w in have or w in _WEAK or len(w) < 2 or w.isdigit():
            continue
        if not w.isalpha() and _NOT_LETTERS.sub("", w) in have:
            continue
        joined = False
        for lo in range(max(0, k - 2), k + 1):
            for hi in range(k + 1, min(n, lo + 3) + 1):
                if hi - lo >= 2 and "".join(xs[lo:hi]) in have:
                    joined = True
                    break
            if joined:
                break
        if joined or (k == n - 1 and len(w) >= 3 and any(y.startswith(w) for y in ys)):
            continue
        out.append(w)
    return out


def title_word_difference(a: Sequence[str], b: Sequence[str]) -> tuple[list[str], list[str]]:
    """(content words only in title `a`, content words only in title `b`), from title_words.

    Not differences: a typing error (one letter changed, added, dropped or swapped, in words
    of five letters or more) and a Greek letter that one title dropped. A Greek letter for
    another one ("PKC delta" / "PKC epsilon") is a difference."""
    plain_a = [w for w in a if w not in _GREEK_WORDS]
    plain_b = [w for w in b if w not in _GREEK_WORDS]
    only_a, only_b = _unexplained(plain_a, plain_b), _unexplained(plain_b, plain_a)
    greek_a = Counter(w for w in a if w in _GREEK_WORDS)
    greek_b = Counter(w for w in b if w in _GREEK_WORDS)
    if greek_a - greek_b and greek_b - greek_a:
        only_a += sorted(greek_a - greek_b)
        only_b += sorted(greek_b - greek_a)
    if only_a and only_b:
        for x in list(only_a):
            if len(x) < 5:
                continue
            for y in only_b:
                if len(y) >= 5 and OSA.distance(x, y, score_cutoff=1) <= 1:
                    only_a.remove(x)
                    only_b.remove(y)
                    break
    return only_a, only_b


# --------------------------------------------------------------------------------------------
# Identifiers, numbers, authors, journals
# --------------------------------------------------------------------------------------------

_DOI = re.compile(r"10\.\d{4,9}/[^\s\"']+", re.IGNORECASE)
_DOI_TAIL = re.compile(r"(?:[.,;:)\]}>\-]+|/(?:abstract|full|pdf|epdf|fulltext|html|meta|summary)"
                       r"|\.pdf|\.html?)+$")


def clean_doi(raw: str) -> str:
    if not raw:
        return ""
    s = raw.strip()
    if s.startswith("10.") and " " not in s and "%" not in s and "&" not in s:
        doi = s.lower()
    else:
        if "%" in s:
            s = unquote(s)
        if "&" in s:
            s = html.unescape(s)
        m = _DOI.search(s)
        if not m:
            return ""
        doi = m.group().lower()
    # Two DOIs glued together, or a URL going on after the DOI.
    if ("<" in doi or ">" in doi) and "(sici)" not in doi:  # markup after the DOI
        doi = re.split(r"[<>]", doi, maxsplit=1)[0]
    nxt = doi.find("10.", 8)
    while nxt > 0:  # (rare)
        if re.match(r"10\.\d{4,9}/", doi[nxt:]) and doi[nxt - 1] in "/;,. ":
            doi = doi[:nxt]
            break
        nxt = doi.find("10.", nxt + 3)
    if not doi[-1].isalnum() or "." in doi[-6:] or "/" in doi[-9:]:
        doi = _DOI_TAIL.sub("", doi)
    return doi if len(doi) > 8 else ""


def _clean_isbn(raw: str) -> str:
    """The first ISBN-10/13 in the field, digits (and a final X) only."""
    m = re.search(r"(?:97[89][\s-]?)?(?:\d[\s-]?){9}[\dxX]", raw)
    return re.sub(r"[^0-9x]", "", m.group().lower()) if m else ""


_PMID = re.compile(r"\d{1,9}")


def clean_pmid(raw: str) -> str:
    m = _PMID.search(raw or "")
    return (m.group().lstrip("0") or "") if m else ""


_MONTHS = {m: i for i, m in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}


def parse_pages(raw: str) -> tuple[str, int, int]:
    """(first page as written, normalised; first page number; last page number; -1 unknown).

    "139-54" -> ("139", 139, 154); "S12-4" -> ("s12", 12, 14). Spreadsheet damage is
    repaired: "06-Oct" was the range 6-10 and "Jan-67" was 1-67.
    """
    s = (raw or "").strip().strip('"').lower()
    if not s or "no pagination" in s:
        return "", -1, -1
    s = s.replace("–", "-").replace("—", "-").replace("−", "-")
    m = re.fullmatch(r"(\d{1,2})-([a-z]{3})", s)
    if m and m.group(2) in _MONTHS:
        a, b = int(m.group(1)), _MONTHS[m.group(2)]
        return str(a), a, b
    m = re.fullmatch(r"([a-z]{3})-(\d{1,4})", s)
    if m and m.group(1) in _MONTHS:
        a, b = _MONTHS[m.group(1)], int(m.group(2))
        return str(a), a, b
    m = re.match(r"\s*(?:pp?\.?\s*|pages?\s*)?([a-z]{0,4})\s*0*(\d+)([a-z]?)", s)
    if not m:
        m = _ROMAN_PAGES.fullmatch(s)
        if m:  # front matter: "v-vii"
            first, last = _roman(m.group(1)), _roman(m.group(2) or m.group(1))
            return "r" + str(first), first, max(first, last)
        return "", -1, -1
    prefix, num, suffix = m.group(1), m.group(2) or "0", m.group(3)
    if prefix in ("suppl", "supp"):
        prefix = "s"
    first = int(num)
    first_norm = prefix + str(first) + suffix
    last = first
    rest = s[m.end():]
    m2 = re.match(r"\s*-+\s*([a-z]{0,4})\s*0*(\d+)", rest)
    if m2:
        lnum = m2.group(2)
        if len(lnum) < len(num):
            lnum = num[: len(num) - len(lnum)] + lnum
        last = int(lnum)
        if last < first:
            last = first
    return first_norm, first, last


_DAMAGED_PAGES = re.compile(r"(\d{1,2})-([a-z]{3})|([a-z]{3})-(\d{1,4})")


def _pages_damaged(raw: str) -> bool:
    """Pages a spreadsheet turned into a date ("01-Dec" for 1-12, "Jan-67" for 1-67): the
    repair in parse_pages is a guess, so such pages are evidence neither for nor against."""
    m = _DAMAGED_PAGES.fullmatch((raw or "").strip().strip('"').lower())
    return bool(m) and (m.group(2) or m.group(3)) in _MONTHS


def parse_issue(raw: str) -> frozenset[str]:
    """Every number of an issue field: "3-4" -> {"3", "4"}, "12 Suppl 1" -> {"12", "1"}.
    Two issues differ when they have no number in common."""
    return frozenset(d.lstrip("0") or "0" for d in _DIGITS.findall(raw or ""))


_ARTICLE_NUMBER = re.compile(r"[a-z]*\d{6,}|[a-z]+\d{4,}", re.IGNORECASE)


_SUPPLEMENT = re.compile(r"suppl|\bs\d|\bs\b|\bpt\b|part", re.IGNORECASE)


def _issue_numbers(issue: str, volume: str, volnums: frozenset[str],
                   raw_volume: str) -> tuple[frozenset[str], bool]:
    """(The numbers that may name the issue, whether a supplement or part is involved).

    The issue field's numbers, unless it holds an article number ("e0163969", shifted there
    from the pages), and the volume field's other numbers ("58 Suppl 5", "13 (2)"), where
    some exports put the issue or the supplement. With a supplement or a part, one record
    may give the issue and the other the supplement's number: not comparable."""
    own = frozenset() if _ARTICLE_NUMBER.fullmatch(issue.strip()) else parse_issue(issue)
    return own | (volnums - {volume}), bool(_SUPPLEMENT.search(f"{raw_volume} {issue}"))


_ROMAN_PAGES = re.compile(r"([ivxlc]{1,7})(?:\s*-+\s*([ivxlc]{1,7}))?")
_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}


def _roman(s: str) -> int:
    total = 0
    for k, ch in enumerate(s):
        v = _ROMAN_VALUES[ch]
        total += -v if k + 1 < len(s) and _ROMAN_VALUES[s[k + 1]] > v else v
    return total


_JUNK_VOLUME = re.compile(r"^\d+\)$|^\(")
_VOL_SKIP = re.compile(r"\b(?:part|pt|suppl\w*|supplement|no|number|spec\w*)\.?\s*$", re.I)


def parse_volume(raw: str) -> tuple[str, frozenset[str]]:
    """(main volume number, all numbers of the field)."""
    s = (raw or "").strip()
    if not s:
        return "", frozenset()
    nums = [(m.group().lstrip("0") or "0", m.start()) for m in re.finditer(r"\d+", s)]
    allnums = frozenset(n for n, _ in nums)
    if _JUNK_VOLUME.match(s):
        return "", allnums
    for n, start in nums:
        if not _VOL_SKIP.search(s[:start]):
            return n, allnums
    return "", allnums


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z][a-z])")
_INITIALS = re.compile(r"^(?:[A-Z]\.?-?){1,4}$")
_NAME_NOISE = frozenset(
    "null jr sr ii iii iv et al and the md phd von van der de del da di le la".split()
)


def parse_author(raw: str) -> tuple[str, frozenset[str]]:
    """(surname, all name words) of one author string, folded; ("", ...) when there is none.

    Understands "Smith, John A.", "Smith JA", "Smith J. A.", "J. A. Smith", "John Smith".
    """
    s = raw.strip()
    if not s:
        return "", frozenset()
    if not s.isascii():
        s = _fix_mojibake(s)
    s = _CAMEL.sub(" ", s)
    words = frozenset(w for w in fold(s).split() if len(w) > 1 and w not in _NAME_NOISE)
    if "," in s:
        last, _, first = s.partition(",")
        sur = fold(last).replace(" ", "")
        if not sur:
            sur = fold(first).replace(" ", "")
        return sur, words
    parts = s.replace(".", ". ").split()
    if len(parts) == 1:
        return fold(s).replace(" ", ""), words
    i = len(parts)
    while i > 1 and _INITIALS.match(parts[i - 1]):
        i -= 1
    if i < len(parts):  # "Smith J. A." / "Smith JA"
        return fold(" ".join(parts[:i])).replace(" ", ""), words
    # "J. A. Smith", "John Smith"
    return fold(parts[-1]).replace(" ", ""), words


_ANON = frozenset(("anonymous", "anon", "etal", "et", "unknown", "none", "na", "author"))


def journal_tokens(journal: str) -> tuple[str, ...]:
    j = fold(re.split(r"\.\s*conference\s*:|\bconference\s*:", journal or "", maxsplit=1,
                      flags=re.IGNORECASE)[0])
    return tuple(w for w in j.split() if w not in _JOURNAL_STOP)


def _abbrev_match(short: Sequence[str], long: Sequence[str]) -> bool:
    """Every word of `short` is a prefix of a word of `long`, in order ("curr opin lipidol")."""
    if not short:
        return False
    j = 0
    for w in short:
        while j < len(long) and not long[j].startswith(w):
            j += 1
        if j == len(long):
            return False
        j += 1
    return True


def journal_similarity(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    if not a or not b:
        return -1.0
    if a == b:
        return 1.0
    a2 = tuple(w for w in a if w not in ("journal", "j")) or a
    b2 = tuple(w for w in b if w not in ("journal", "j")) or b
    if a2 == b2:
        return 1.0
    if (len(a2) <= len(b2) and _abbrev_match(a2, b2)) or (
            len(b2) <= len(a2) and _abbrev_match(b2, a2)):
        return 0.95
    sa, sb = " ".join(a2), " ".join(b2)
    if sa.startswith(sb + " ") or sb.startswith(sa + " "):
        return 0.9
    # Abbreviation of the longer one's first words: "am j physiol" vs "american journal of
    # physiology heart and circulatory physiology"
    if len(a2) <= len(b2) and _abbrev_match(a2, b2[: len(a2) + 2]) or (
            len(b2) <= len(a2) and _abbrev_match(b2, a2[: len(b2) + 2])):
        return 0.9
    return fuzz.token_set_ratio(sa, sb) / 100.0


# --------------------------------------------------------------------------------------------
# Normalised record
# --------------------------------------------------------------------------------------------

_CONF_TYPES = {"conf", "cpaper", "abst", "inproceedings", "proceedings", "conference",
               "conference paper", "conference abstract", "meeting abstract", "abstract",
               "poster", "conference proceeding", "conference review"}
_BOOK_TYPES = {"book", "chap", "chapter", "inbook", "incollection", "ebook", "echap", "edbook",
               "book section", "book chapter"}
_THESIS_TYPES = {"thes", "thesis", "phdthesis", "mastersthesis", "dissertation"}


def _ptype_class(pt: str) -> str:
    p = pt.strip().lower()
    if not p:
        return ""
    if p in _CONF_TYPES:
        return "conf"
    if p in _BOOK_TYPES:
        return "book"
    if p in _THESIS_TYPES:
        return "thesis"
    return "article"


class _Cache:
    """Per-run memo of the normalisations of field values that repeat across records
    (author names, journals, volume/issue/pages strings)."""

    __slots__ = ("author", "authors", "journal", "volume", "pages", "venue", "issue")

    def __init__(self) -> None:
        self.author: dict[str, tuple[str, frozenset[str]]] = {}
        self.authors: dict[tuple[str, ...], tuple] = {}
        self.journal: dict[str, tuple[tuple[str, ...], str]] = {}
        self.volume: dict[str, tuple[str, frozenset[str]]] = {}
        self.pages: dict[str, tuple[str, int, int]] = {}
        self.venue: dict[str | tuple[str, str], tuple[bool, bool]] = {}
        self.issue: dict[tuple[str, str], tuple[frozenset[str], bool]] = {}


# Some exports glue authors together with no separator: "Przyklenk K.Kloner R. A.".
_GLUED_AUTHORS = re.compile(r"(?<=\.)(?=[^\W\d_][^\s.,]*)")


def _parse_authors_cached(authors: Sequence[str], cache: _Cache):
    if len(authors) == 1 and ";" in authors[0]:
        authors = authors[0].split(";")
    elif len(authors) == 1 and " and " in authors[0]:
        authors = authors[0].split(" and ")
    elif len(authors) == 1 and _GLUED_AUTHORS.search(authors[0]):
        authors = _GLUED_AUTHORS.split(authors[0])
    out = []
    memo = cache.author
    for a in authors[:_MAX_AUTHORS]:
        if not a:
            continue
        parsed = memo.get(a)
        if parsed is None:
            parsed = memo[a] = parse_author(a)
        if parsed[0] and parsed[0] not in _ANON:
            out.append(parsed)
    return tuple(out)


_MAX_AUTHORS = 12


class _Rec:
    __slots__ = (
        "idx", "id", "title", "alt", "tkey", "tokset", "_numbers", "authors",
        "surnames", "sset", "first_author", "year", "jtok", "volume", "volnums", "issues",
        "supplement", "fpage", "pfirst", "plast", "pages_damaged", "pprefix", "article_number",
        "doi", "pmid", "isbn", "ptype", "erratum", "reply", "abstract_like", "thesis",
        "raw_abstract", "_abstract", "generic", "_words",
    )

    def __init__(self, idx: int, r: DedupRecord, cache: _Cache):
        self.idx = idx
        self.id = r.id
        raw_title = r.title or ""
        main, alt, correction = clean_title(raw_title)
        title = fold(main)
        self.title = title
        self.alt = fold(alt) if alt else ""
        toks = title.split()
        self.tokset = frozenset(toks)
        self.tkey = "".join(toks)
        self._numbers: frozenset[str] | None = None
        self._words: tuple[tuple[str, ...], tuple[str, ...]] | None = None
        self.generic = _is_generic(self.tokset)
        akey = tuple(r.authors or ())
        au = cache.authors.get(akey)
        if au is None:
            parsed = _parse_authors_cached(akey, cache)
            surnames = tuple(s for s, _ in parsed)
            au = cache.authors[akey] = (parsed, surnames, frozenset(surnames))
        self.authors, self.surnames, self.sset = au
        self.first_author = self.surnames[0] if self.surnames else ""
        self.year = r.year if isinstance(r.year, int) and 1000 < r.year < 3000 else None
        journal = r.journal or ""
        j = cache.journal.get(journal)
        if j is None:
            j = cache.journal[journal] = (journal_tokens(journal), fold(journal))
        self.jtok, jfold = j
        volume = r.volume or ""
        v = cache.volume.get(volume)
        if v is None:
            v = cache.volume[volume] = parse_volume(volume)
        self.volume, self.volnums = v
        issue = r.issue or ""
        ikey = (issue, volume)
        iss = cache.issue.get(ikey)
        if iss is None:
            iss = cache.issue[ikey] = _issue_numbers(issue, self.volume, self.volnums, volume)
        self.issues, self.supplement = iss
        pages = r.pages or ""
        pg = cache.pages.get(pages)
        if pg is None:
            first, pfirst, plast = parse_pages(pages)
            pg = cache.pages[pages] = (
                first, pfirst, plast, _pages_damaged(pages), _page_prefix(first),
                _is_article_number(first),
                not pages.isdigit() and bool(_THESIS.search(fold(pages))))
        (self.fpage, self.pfirst, self.plast, self.pages_damaged, self.pprefix,
         self.article_number, thesis_pages) = pg
        self.doi = clean_doi(r.doi) if r.doi else ""
        self.pmid = clean_pmid(r.pmid) if r.pmid else ""
        self.isbn = _clean_isbn(r.isbn) if r.isbn else ""
        self.ptype = _ptype_class(r.publication_type or "")
        cleaned = main.strip()
        low = cleaned.lower()
        self.erratum = correction or (_ERRATUM_HINTS.search(low) is not None
                                      and _ERRATUM.search(cleaned) is not None) or (
            bool(self.doi) and _ERRATUM_DOI.search(self.doi) is not None)
        self.reply = (_REPLY_HINTS.search(low) is not None or low[:3] in ("re:", "re ", "re."))\
            and _REPLY.search(cleaned) is not None
        # A meeting or a thesis, from the journal, from volume and issue, and from the pages
        # (each part's answer kept for the run: the parts repeat, their combinations do not).
        venue_j = cache.venue.get(jfold)
        if venue_j is None:
            venue_j = cache.venue[jfold] = (bool(_ABSTRACT_VENUE.search(jfold)),
                                            bool(_THESIS.search(jfold)))
        vi = (volume, issue)
        venue_vi = cache.venue.get(vi)
        if venue_vi is None:
            venue_vi = cache.venue[vi] = (bool(_SUPPL.search(f"{volume} {issue}")), bool(
                _THESIS.search(f"{fold(volume)} {fold(issue)}")))
        self.thesis = self.ptype == "thesis" or venue_j[1] or venue_vi[1] or thesis_pages
        self.abstract_like = not self.thesis and (
            self.ptype == "conf" or venue_j[0] or venue_vi[0]
            or bool(_ABSTRACT_TITLE.search(raw_title))
        )
        self.raw_abstract = r.abstract or ""
        self._abstract: str | None = None

    @property
    def numbers(self) -> frozenset[str]:
        if self._numbers is None:
            self._numbers = _title_numbers(self.title)
        return self._numbers

    @property
    def abstract(self) -> str:
        """The folded start of the abstract, computed when first needed ("" for boilerplate
        such as "No abstract available", which says nothing about the work)."""
        if self._abstract is None:
            folded = fold(self.raw_abstract[:ABSTRACT_CHARS])[:300] if self.raw_abstract else ""
            self._abstract = "" if len(folded) < 60 or _NO_ABSTRACT.match(folded) else folded
        return self._abstract

    @property
    def words(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The title's and the other-language title's words in canonical spelling."""
        if self._words is None:
            self._words = (title_words(self.title), title_words(self.alt))
        return self._words


_ABSTRACT_TITLE = re.compile(r"\[abstract\]|meeting abstract", re.IGNORECASE)
# The matching reads the first 300 letters of an abstract, folded from at most this many
# characters: a caller may load no more.
ABSTRACT_CHARS = 450
_NO_ABSTRACT = re.compile(r"(?:no|without) (?:abstract|summary)|abstract (?:not )?available|"
                          r"not available|n a$|none$|null$")


# --------------------------------------------------------------------------------------------
# Blocking
# --------------------------------------------------------------------------------------------

_BLOCK_CAP = 50  # blocks larger than this are compared along a sorted window only
_WINDOW = 6


def _candidate_pairs(recs: list[_Rec]) -> set[int]:
    """Pairs (encoded i * n + j, i < j) of records that share at least one blocking key."""
    n = len(recs)
    df: Counter[str] = Counter()
    for r in recs:
        df.update(r.tokset)
    # Rank of each word by rarity (fewest titles first; ties alphabetical).
    kept = sorted((t for t in df if len(t) > 2 and t not in _STOP), key=lambda t: (df[t], t))
    rank = {t: k for k, t in enumerate(kept)}
    limit = len(kept)
    # Stop words and short words rank after every kept word, so a sort puts them last.
    rank.update((t, limit) for t in df if t not in rank)
    by_rank = rank.__getitem__
    blocks: dict[tuple, list[int]] = defaultdict(list)
    for r in recs:
        i = r.idx
        if r.doi:
            blocks[("d", r.doi)].append(i)
        if r.pmid:
            blocks[("p", r.pmid)].append(i)
        if r.isbn:
            blocks[("i", r.isbn)].append(i)
        tkey = r.tkey
        if len(tkey) >= 6:
            blocks[("t", tkey[:32])].append(i)
            if len(tkey) > 32:
                blocks[("s", tkey[-32:])].append(i)
            rare = sorted(r.tokset, key=by_rank)[:3]
            if rare and rank[rare[-1]] == limit:
                rare = [t for t in rare if rank[t] < limit]
            if len(rare) >= 2:
                blocks[("r", rare[0], rare[1])].append(i)
                if len(rare) == 3:
                    blocks[("r", rare[0], rare[2])].append(i)
                    blocks[("r", rare[1], rare[2])].append(i)
        if r.alt and len(r.alt) >= 10:
            blocks[("t", r.alt.replace(" ", "")[:32])].append(i)
        if r.fpage:
            if r.first_author:
                blocks[("a", r.first_author, r.fpage)].append(i)
            if r.volume:
                blocks[("v", r.volume, r.fpage)].append(i)
    pairs: set[int] = set()
    for members in blocks.values():
        m = len(members)
        if m < 2:
            continue
        if m == 2:
            a, b = members
            pairs.add(a * n + b)  # members are in increasing order
        elif m <= _BLOCK_CAP:
            pairs.update(a * n + b for a, b in combinations(members, 2))
        else:
            # Too big to compare all: neighbours in title order only.
            order = sorted(members, key=lambda k: (recs[k].tkey, k))
            for x in range(m):
                a = order[x]
                for b in order[x + 1:x + 1 + _WINDOW]:
                    pairs.add(a * n + b if a < b else b * n + a)
    return pairs


@dataclass(slots=True)
class _Unreliable:
    """Identifiers that several clearly different works carry: a supplement's DOI copied onto
    each of its abstracts, a book's DOI or ISBN on each chapter, data-entry errors. Equal
    values of these prove nothing."""

    doi: set[str] = field(default_factory=set)
    pmid: set[str] = field(default_factory=set)
    isbn: set[str] = field(default_factory=set)


def _unreliable_ids(recs: list[_Rec]) -> _Unreliable:
    out = _Unreliable()
    for name in ("doi", "pmid", "isbn"):
        groups: dict[str, list[_Rec]] = defaultdict(list)
        for r in recs:
            value = getattr(r, name)
            if value:
                groups[value].append(r)
        bad = getattr(out, name)
        for key, rs in groups.items():
            titled = [r for r in rs if r.title]
            for k in range(1, len(titled)):
                if not _titles_agree(titled[0], titled[k]):
                    bad.add(key)
                    break
    return out


def _issues_are_record_numbers(recs: list[_Rec]) -> bool:
    """True when the issue field counts records rather than issues (an export that put its
    record numbers there): most values occur once, where real issue numbers repeat."""
    values = Counter(r.issues for r in recs if r.issues)
    filled = sum(values.values())
    return filled >= 50 and sum(1 for c in values.values() if c == 1) > filled / 2


def _titles_agree(a: _Rec, b: _Rec) -> bool:
    if a.tkey == b.tkey:
        return True
    if Indel.normalized_similarity(a.title, b.title) >= 0.8:
        return True
    return _containment(a, b) >= 0.9 or bool(
        a.alt and Indel.normalized_similarity(a.alt, b.title) >= 0.8) or bool(
        b.alt and Indel.normalized_similarity(b.alt, a.title) >= 0.8)


def _containment(a: _Rec, b: _Rec) -> float:
    """Share of the shorter title's words found in the longer title (0 for short titles)."""
    sa, sb = a.tokset, b.tokset
    if len(sa) > len(sb):
        sa, sb = sb, sa
    if len(sa) < 3:
        return 0.0
    return len(sa & sb) / len(sa)


# --------------------------------------------------------------------------------------------
# Pair comparison
# --------------------------------------------------------------------------------------------


def _author_match(a: tuple[str, frozenset[str]], b: tuple[str, frozenset[str]]) -> bool:
    sa, wa = a
    sb, wb = b
    if sa == sb:
        return True
    if sa[0] == sb[0] and len(sa) > 3 and len(sb) > 3 and \
            Indel.normalized_similarity(sa, sb, score_cutoff=0.8):
        return True
    # Name order confusions: "Si Hyun Kang" vs "Kang, S. H."; "Longatto Filho, A".
    if (len(sa) > 2 and sa in wb) or (len(sb) > 2 and sb in wa) or \
            (len(sa) > 5 and len(sb) > 5 and (sa.startswith(sb) or sb.startswith(sa))):
        return True
    # Group authors written differently: "Group, ALTS Study" vs "ALTS, Study Group".
    if len(wa) < 3 or len(wb) < 3:
        return False
    common = [w for w in wa & wb if len(w) > 2]
    return len(common) >= 2 and any(len(w) >= 5 for w in common)


def author_similarity(a: _Rec, b: _Rec) -> float:
    """Share of the shorter author list found in the other; -1 if either is unknown."""
    if not a.authors or not b.authors:
        return -1.0
    short = min(len(a.authors), len(b.authors))
    if a.surnames[:short] == b.surnames[:short]:
        return 1.0
    common = a.sset & b.sset
    if len(a.sset) == len(a.surnames) and len(b.sset) == len(b.surnames):
        hit = len(common)
        ua = [x for x in a.authors if x[0] not in common]
        ub = [y for y in b.authors if y[0] not in common]
    else:  # a surname appears twice ("Kim S. J.; Kim K. M.")
        ub = list(b.authors)
        ua, hit = [], 0
        for x in a.authors:
            for k, y in enumerate(ub):
                if x[0] == y[0]:
                    ub.pop(k)
                    hit += 1
                    break
            else:
                ua.append(x)
    if hit >= short:
        return 1.0
    if len(ua) > len(ub):
        ua, ub = ub, ua
    for x in ua:
        for k, y in enumerate(ub):
            if _author_match(x, y):
                ub.pop(k)
                hit += 1
                break
    return min(hit / short, 1.0)


def _volume_cmp(a: _Rec, b: _Rec) -> int:
    if a.volume and b.volume:
        if a.volume == b.volume:
            return 1
        if a.volume in b.volnums or b.volume in a.volnums:
            return 0
        # One of them has the supplement number where the volume belongs.
        if (a.abstract_like or b.abstract_like) and (
                len(a.volume) == 1 or len(b.volume) == 1):
            return 0
        return -1
    return 0


def _page_cmp(a: _Rec, b: _Rec) -> int:
    """2 same first page, 1 overlapping ranges, 0 unknown (or damaged), -1 different."""
    if not a.fpage or not b.fpage or a.pages_damaged or b.pages_damaged:
        return 0
    if a.fpage == b.fpage:
        return 2
    if a.pfirst == b.pfirst:
        return 2 if (a.fpage[:1].isdigit() or b.fpage[:1].isdigit()) else 1
    prefix_a, prefix_b = a.pprefix, b.pprefix
    if a.pfirst <= b.plast and b.pfirst <= a.plast and prefix_a == prefix_b:
        return 1
    if (prefix_a == "") != (prefix_b == "") and (a.article_number or b.article_number):
        # An article number ("e12724", "c1804") against printed pages ("1014", or "1-6" of
        # its own PDF): two numbering schemes, not a contradiction. (Supplement pages such
        # as "S334" and "A254" are pages.)
        return 0
    # An article online before print: no volume yet, pages of its own PDF ("1-6").
    if (a.pfirst == 1 and not a.volume and b.volume) or (b.pfirst == 1 and not b.volume
                                                         and a.volume):
        return 0
    return -1


def _is_article_number(p: str) -> bool:
    """"e12724", "e0163969", "c1804": an electronic article number, not a printed page."""
    return p[:1] == "e" and p[1:2].isdigit() or p[:1] not in "s0123456789" and bool(
        _ARTICLE_NUMBER.fullmatch(p))


def _page_prefix(p: str) -> str:
    return p[: len(p) - len(p.lstrip("abcdefghijklmnopqrstuvwxyz"))]


@dataclass(slots=True)
class _Features:
    title: float  # Indel similarity of the folded titles, -1 when one has none
    contain: float  # share of the shorter title's words in the longer one
    author: float  # -1 unknown
    year_diff: int  # -1 unknown
    journal: float  # -1 unknown
    volume: int
    issue: int
    pages: int
    doi: int
    pmid: int
    isbn: bool  # same ISBN (print and e-book ISBNs differ, so a difference says nothing)
    abstract: float  # -1 unknown
    numbers_differ: bool


def _title_points(ts: float, cont: float, a: _Rec, b: _Rec) -> tuple[float, str]:
    """Points of the title comparison and the reason to show ("" for none)."""
    if ts < 0:
        return 0.0, ""
    if a.generic and b.generic:
        return 0.0, "generic title"
    if ts == 1.0:
        return (5.0 if min(len(a.tkey), len(b.tkey)) >= 30 else 3.5), "same title"
    if ts >= 0.95:
        return 4.5, "nearly the same title"
    if ts >= 0.9:
        return 3.5, "similar title"
    words = min(len(a.tokset), len(b.tokset))
    if cont >= 0.99 and words >= 4:
        return 3.0, "one title contains the other"
    if ts >= 0.85:
        return 2.0, "similar title"
    if cont >= 0.9 and words >= 6:
        return 1.5, "similar title"
    if ts >= 0.75:
        return 0.5, ""
    if ts >= 0.6:
        return -2.0, "different titles"
    return -5.0, "different titles"


def _title_sim(a: _Rec, b: _Rec) -> tuple[float, float]:
    """(similarity of the titles, -1 when one has none; containment of the shorter one)."""
    if a.tkey and a.tkey == b.tkey:
        return 1.0, 1.0
    if not a.title or not b.title:
        return -1.0, 0.0
    ts = Indel.normalized_similarity(a.title, b.title)
    if a.alt or b.alt:
        for x, y in ((a.alt, b.title), (a.title, b.alt), (a.alt, b.alt)):
            if x and y:
                ts = max(ts, Indel.normalized_similarity(x, y))
    return ts, _containment(a, b)


# The most that authors, journal, issue and abstract can add (see _points).
_REST_MAX = 2.5 + 1.0 + 0.3 + 2.5


def _hopeless(a: _Rec, b: _Rec, bad: _Unreliable, possible: float = TUNING.possible) -> bool:
    """True when the pair cannot reach the possible tier whatever its authors, journal and
    abstract say: an upper bound of `_points` from the cheap fields. Saves most of the work
    on large projects, where most candidate pairs are clearly different works."""
    return _hope(a, b, bad, possible) is None


def _hope(a: _Rec, b: _Rec, bad: _Unreliable,
          possible: float) -> tuple[float, float] | None:
    """None for a hopeless pair (see _hopeless), else the titles' (similarity, containment),
    which the bound needed and _features would compute again."""
    if a.thesis and b.thesis:
        return _title_sim(a, b)
    bound = _REST_MAX
    if a.doi and b.doi:
        doi = _id_cmp(a.doi, b.doi, bad.doi)
        bound += 4.0 if doi == 1 else -2.0 if doi == -1 else 0.0
    if a.pmid and b.pmid:
        pmid = _id_cmp(a.pmid, b.pmid, bad.pmid)
        bound += 5.0 if pmid == 1 else -6.0 if pmid == -1 else 0.0
    if a.isbn and b.isbn and _id_cmp(a.isbn, b.isbn, bad.isbn) == 1:
        bound += 2.0
    if a.year and b.year:
        yd = abs(a.year - b.year)
        bound += 1.0 if yd == 0 else -0.5 if yd == 1 else -5.0
    vol = _volume_cmp(a, b)
    bound += 1.5 if vol == 1 else -3.0 if vol == -1 else 0.0
    pages = _page_cmp(a, b)
    bound += 2.5 if pages == 2 else 0.5 if pages == 1 else (
        (-2.0 if vol == 1 else -4.0) if pages == -1 else 0.0)
    if bound + 5.0 < possible:
        return None
    ts, cont = _title_sim(a, b)
    return None if bound + _title_points(ts, cont, a, b)[0] < possible else (ts, cont)


def _id_cmp(x: str, y: str, bad: set[str]) -> int:
    if not x or not y or x in bad or y in bad:
        return 0
    if x == y:
        return 1
    if x.startswith(y) or y.startswith(x):  # a truncated identifier
        return 0
    return -1


def _features(a: _Rec, b: _Rec, bad: _Unreliable, jsim: dict | None = None,
              title: tuple[float, float] | None = None) -> _Features:
    ts, cont = title or _title_sim(a, b)
    au = author_similarity(a, b)
    yd = abs(a.year - b.year) if a.year and b.year else -1
    if jsim is None:
        js = journal_similarity(a.jtok, b.jtok)
    else:
        jk = (a.jtok, b.jtok)
        js = jsim.get(jk)
        if js is None:
            js = jsim[jk] = journal_similarity(a.jtok, b.jtok)
    if a.abstract and b.abstract:
        n = min(len(a.abstract), len(b.abstract), 300)
        ab = Indel.normalized_similarity(a.abstract[:n], b.abstract[:n])
    else:
        ab = -1.0
    doi = _id_cmp(a.doi, b.doi, bad.doi)
    pmid = _id_cmp(a.pmid, b.pmid, bad.pmid)
    isbn = _id_cmp(a.isbn, b.isbn, bad.isbn) == 1
    return _Features(
        title=ts, contain=cont, author=au, year_diff=yd, journal=js,
        volume=_volume_cmp(a, b), issue=_issue_cmp(a, b), pages=_page_cmp(a, b),
        doi=doi, pmid=pmid, isbn=isbn, abstract=ab,
        numbers_differ=ts < 1.0 and a.numbers != b.numbers,
    )


def _issue_cmp(a: _Rec, b: _Rec) -> int:
    """1 same, -1 different (no number in common), 0 unknown or partly the same."""
    if not a.issues or not b.issues:
        return 0
    if a.issues == b.issues:
        return 1
    return 0 if a.issues & b.issues or a.supplement or b.supplement else -1


CERTAIN, POSSIBLE, NONE = 2, 1, 0



def _points(a: _Rec, b: _Rec, f: _Features) -> tuple[float, list[str], list[str]]:
    """Evidence for (+) and against (-) one work, with the reasons."""
    pro: list[str] = []
    con: list[str] = []
    p = 0.0
    # Title
    tp, why = _title_points(f.title, f.contain, a, b)
    p += tp
    if why:
        (pro if tp > 0 else con).append(why)
    # Authors
    if f.author < 0:
        pass
    elif f.author >= 0.95:
        p += 2.5
        pro.append("same authors")
    elif f.author >= 0.8:
        p += 2.0
        pro.append("similar authors")
    elif f.author >= 0.6:
        p += 1.0
    elif f.author >= 0.4:
        p -= 1.0
        con.append("different authors")
    else:
        p -= 3.0
        con.append("different authors")
    if a.thesis and b.thesis:
        # One thesis catalogued twice (the university's record and Dissertation Abstracts):
        # journal, volume and pages describe the catalogue, not the work. Left to a person.
        if f.title >= 0.95 and f.author >= 0.95 and 0 <= f.year_diff <= 1:
            pro.append("same thesis")
        return p, pro, con
    # Year
    if f.year_diff == 0:
        p += 1.0
    elif f.year_diff == 1:
        p -= 0.5
        con.append("years differ by one")
    elif f.year_diff > 1:
        p -= 5.0
        con.append("different years")
    # Journal
    if f.journal >= 0.9:
        p += 1.0
    elif 0 <= f.journal < 0.5:
        p -= 1.0
        con.append("different journals")
    # Volume, pages, issue
    if f.volume == 1:
        p += 1.5
    elif f.volume == -1:
        p -= 3.0
        con.append("different volume")
    if f.pages == 2:
        p += 2.5
        pro.append("same pages")
    elif f.pages == 1:
        p += 0.5
    elif f.pages == -1:
        # Same journal and volume: more likely a typing error than another work.
        p -= 2.0 if _same_venue(f) else 4.0
        con.append("different pages")
    if f.issue == 1:
        p += 0.3
    elif f.issue == -1 and f.pages != 2:
        p -= 0.3
    # Abstract
    if f.abstract >= 0.95:
        p += 2.5
        pro.append("same abstract")
    elif f.abstract >= 0.85:
        p += 1.5
    elif 0 <= f.abstract < 0.6:
        p -= 1.5
        con.append("different abstracts")
    # Identifiers
    if f.doi == 1:
        p += 4.0
        pro.append("same DOI")
    elif f.doi == -1:
        p -= 2.0
        con.append("different DOI")
    if f.pmid == 1:
        p += 5.0
        pro.append("same PMID")
    elif f.pmid == -1:
        p -= 6.0
        con.append("different PMID")
    if f.isbn:
        p += 2.0
        pro.append("same ISBN")
    if f.numbers_differ:
        con.append("different numbers in titles")
    return p, pro, con


def _same_venue(f: _Features) -> bool:
    """Same journal, volume and issue (or no issue on either): a page conflict there is more
    likely a typing error, or one abstract printed twice in one supplement."""
    return f.volume == 1 and f.journal >= 0.9 and f.issue != -1


def _veto_no_title(a: _Rec, b: _Rec, f: _Features) -> bool:
    return f.title < 0


def _veto_different_pmid(a: _Rec, b: _Rec, f: _Features) -> bool:
    return f.pmid == -1


def _veto_different_doi(a: _Rec, b: _Rec, f: _Features) -> bool:
    # (A DOI that several clearly different records carry is not compared: _Unreliable.)
    # Publishers registered second DOIs for their back issues ("10.1007/bf02482781" and
    # "10.1007/s005950050533" are one article): one publisher's two DOIs do not contradict
    # the same title starting on the same page of the same volume of the same journal.
    # A journal that moved to another publisher keeps its DOIs' suffixes under the new prefix.
    prefix_a, _, suffix_a = a.doi.partition("/")
    prefix_b, _, suffix_b = b.doi.partition("/")
    return f.doi == -1 and suffix_a != suffix_b and not (
        prefix_a == prefix_b and f.title >= 0.9
        and f.pages == 2 and f.volume == 1 and f.journal >= 0.9 and f.issue >= 0
        and not (a.abstract_like or b.abstract_like))


def _same_id(f: _Features) -> bool:
    """A shared identifier, unless the journals disagree too (an identifier copied onto the
    wrong record)."""
    return (f.doi == 1 or f.pmid == 1) and not 0 <= f.journal < 0.6


def _veto_different_years(a: _Rec, b: _Rec, f: _Features) -> bool:
    # Online first in one year, in an issue two years later: the identifier tells.
    return f.year_diff > 1 and not (_same_id(f) and f.title >= 0.9)


def _veto_title_numbers(a: _Rec, b: _Rec, f: _Features) -> bool:
    return f.numbers_differ and not ((f.pages == 2 and f.volume == 1) or _same_id(f))


def _veto_generic_title(a: _Rec, b: _Rec, f: _Features) -> bool:
    # "Editorial", "Reply", "In this issue": an editor writes one in every issue, so only an
    # identifier or the same first page of the same volume tells it is one item.
    return (a.generic or b.generic) and not (
        f.doi == 1 or f.pmid == 1 or (f.pages == 2 and f.volume == 1 and f.issue >= 0))


def _veto_different_title_word(a: _Rec, b: _Rec, f: _Features) -> bool:
    # One content word for another: a companion paper on another drug, method or group.
    # A word on one side only is often a dropped subtitle or a label ("Review", "Case
    # report"): it vetoes only when neither the first page nor an identifier ties the two.
    only_a, only_b = _title_difference(a, b)
    if only_a and only_b:
        return True
    return bool(only_a or only_b) and not (f.pages == 2 or _same_id(f))


def _title_difference(a: _Rec, b: _Rec) -> tuple[list[str], list[str]]:
    """The content words that tell the two titles apart (title_word_difference), for the
    pair of titles (main or other-language) that agree best."""
    if a.tkey == b.tkey:
        return [], []
    (ta, alt_a), (tb, alt_b) = a.words, b.words
    best: tuple[list[str], list[str]] | None = None
    for x in (ta, alt_a):
        for y in (tb, alt_b):
            if x and y:
                d = title_word_difference(x, y)
                if best is None or len(d[0]) + len(d[1]) < len(best[0]) + len(best[1]):
                    best = d
    return best or ([], [])


def _veto_titles_differ(a: _Rec, b: _Rec, f: _Features) -> bool:
    return f.title < 0.9 and f.contain < 0.99 and not (
        f.pages == 2 and f.volume == 1 and f.author >= 0.8)


def _veto_conference_vs_article(a: _Rec, b: _Rec, f: _Features) -> bool:
    # A conference abstract and the full article it became are two reports of one study.
    # Only the same DOI, or the same first page of the same volume (one abstract indexed
    # once as a meeting abstract and once as a journal item), makes them one record.
    if a.abstract_like == b.abstract_like or f.doi == 1 or (f.pages == 2 and f.volume >= 0):
        return False
    article = b if a.abstract_like else a
    # The article has a page range, or a later year, or another volume or journal.
    return (article.plast > article.pfirst or f.year_diff != 0 or f.volume == -1
            or f.journal < 0.9)


def _veto_different_authors(a: _Rec, b: _Rec, f: _Features) -> bool:
    # Mostly a wrong author field; but a title and a citation shared by works of other people
    # (a reprint, a translation, a digest) are possible too. An identifier decides.
    return 0 <= f.author < 0.4 and not _same_id(f)


def _veto_different_journal(a: _Rec, b: _Rec, f: _Features) -> bool:
    # Journal names differ in many honest ways (abbreviations, translations, a book series
    # and its volume title), so only when neither the first page nor an identifier ties the
    # two: a digest's summary of an article under the article's title, in another journal.
    return 0 <= f.journal < 0.5 and f.pages != 2 and not _same_id(f)


def _veto_different_volume(a: _Rec, b: _Rec, f: _Features) -> bool:
    # (_volume_cmp already forgives a supplement number in the volume field.)
    return f.volume == -1 and not _same_id(f)


def _veto_different_pages(a: _Rec, b: _Rec, f: _Features) -> bool:
    # Companion papers in one issue, one abstract presented at two meetings. A shared
    # identifier outweighs a typing error in the pages.
    return f.pages == -1 and not _same_id(f)


def _veto_different_issue(a: _Rec, b: _Rec, f: _Features) -> bool:
    return f.issue == -1 and not _same_id(f)


def _veto_short_title(a: _Rec, b: _Rec, f: _Features) -> bool:
    # "Asthma", "Heart failure": a short title says little.
    return min(len(a.tkey), len(b.tkey)) < 30 and not (
        f.pages == 2 or f.doi == 1 or f.pmid == 1 or f.isbn or f.abstract >= 0.95
        or (f.volume == 1 and f.issue == 1))


# Contradicting evidence: any of these keeps a pair out of the certain tier, whatever its
# points. Tried in this order; the first that fires names the pair's rule (RULES).
_VETOES: tuple[tuple[str, Callable[[_Rec, _Rec, _Features], bool]], ...] = (
    ("no_title", _veto_no_title),
    ("different_pmid", _veto_different_pmid),
    ("different_doi", _veto_different_doi),
    ("different_years", _veto_different_years),
    ("title_numbers", _veto_title_numbers),
    ("generic_title", _veto_generic_title),
    ("titles_differ", _veto_titles_differ),
    ("different_title_word", _veto_different_title_word),
    ("conference_vs_article", _veto_conference_vs_article),
    ("different_authors", _veto_different_authors),
    ("different_journal", _veto_different_journal),
    ("different_volume", _veto_different_volume),
    ("different_pages", _veto_different_pages),
    ("different_issue", _veto_different_issue),
    ("short_title", _veto_short_title),
)


def _decide(a: _Rec, b: _Rec, f: _Features,
            tuning: Tuning = TUNING) -> tuple[int, float, tuple[str, ...], str]:
    """Decision for one pair: (CERTAIN|POSSIBLE|NONE, score in 0..1, reasons, rule)."""
    if a.erratum != b.erratum or a.reply != b.reply:
        return NONE, 0.0, (), ""
    p, pro, con = _points(a, b, f)
    if p < tuning.possible:
        return NONE, 0.0, (), ""
    score = round(min(max((p - tuning.possible) / 12.0 + 0.5, 0.0), 1.0), 4)
    vetoes = [name for name, fires in _VETOES if fires(a, b, f)]
    if p >= tuning.certain and not vetoes:
        return CERTAIN, score, tuple(pro + con), ""
    reasons = tuple(dict.fromkeys(pro + con + [RULES[v] for v in vetoes]))
    return POSSIBLE, score, reasons, vetoes[0] if vetoes else "below_certain"


# --------------------------------------------------------------------------------------------
# The function
# --------------------------------------------------------------------------------------------


@contextmanager
def paused_gc() -> Iterator[None]:
    """Python's cycle collector paused for a block that builds millions of objects and no
    reference cycles (normalised records, candidate pairs): each of its passes walks every
    live object, a quarter of find_duplicates' time at 100,000 records. Restored after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def find_duplicates(
    records: Sequence[DedupRecord],
    *,
    not_duplicates: Collection[tuple[int, int]] = (),
    progress: Callable[[int, int], None] | None = None,
    tuning: Tuning = TUNING,
) -> DedupResult:
    """Certain and possible duplicate pairs among `records` (ids as given, a < b in each pair).

    `not_duplicates` pairs are never returned, and no chain of certain pairs joins them.
    `progress(done, total)` is called now and then, with total = number of records.
    """
    with paused_gc():
        return _find_duplicates(records, not_duplicates, progress, tuning)


def _find_duplicates(records, not_duplicates, progress, tuning) -> DedupResult:
    n = len(records)
    if progress:
        progress(0, n)
    # A deterministic order, whatever order the caller gave.
    ordered = sorted(records, key=lambda r: r.id)
    cache = _Cache()
    recs = []
    for start in range(0, n, 10_000):
        recs.extend(_Rec(i, ordered[i], cache) for i in range(start, min(n, start + 10_000)))
        if progress and start + 10_000 < n:
            progress((start + 10_000) * 35 // 100, n)  # normalising: 0-35 %
    del cache
    blocked = {(min(a, b), max(a, b)) for a, b in not_duplicates}
    bad = _unreliable_ids(recs)
    if _issues_are_record_numbers(recs):
        for r in recs:
            r.issues = frozenset()
    cand = sorted(_candidate_pairs(recs))
    if progress:
        progress(n * 60 // 100, n)  # blocking done: 60 %
    jsim: dict[tuple[tuple[str, ...], tuple[str, ...]], float] = {}
    total = len(cand) or 1
    certain: list[tuple[float, int, int, tuple[str, ...], str]] = []
    possible: list[tuple[float, int, int, tuple[str, ...], str]] = []
    step = max(total // 20, 1)
    for k, key in enumerate(cand):
        i, j = divmod(key, n)
        a, b = recs[i], recs[j]
        if blocked and (a.id, b.id) in blocked:
            continue
        if a.erratum != b.erratum or a.reply != b.reply:
            continue
        title = _hope(a, b, bad, tuning.possible)
        if title is None:
            continue
        f = _features(a, b, bad, jsim, title)
        decision, score, reasons, rule = _decide(a, b, f, tuning)
        if decision == CERTAIN:
            certain.append((score, i, j, reasons, rule))
        elif decision == POSSIBLE:
            possible.append((score, i, j, reasons, rule))
        if progress and k % step == 0:
            progress(n * 60 // 100 + int(0.35 * n * k / total), n)  # scoring: 60-95 %
    certain_pairs, demoted, root = _cluster(recs, certain, blocked)
    possible.extend(demoted)
    # Possible pairs already joined by certain ones are answered, and so are pairs whose groups
    # hold two records a person declared not duplicates; one question per two groups.
    seen: set[tuple[int, int]] = set()
    if blocked:
        idx_of = {r.id: r.idx for r in recs}
        for x, y in blocked:
            if x in idx_of and y in idx_of:
                rx, ry = root[idx_of[x]], root[idx_of[y]]
                seen.add((min(rx, ry), max(rx, ry)))
    out_possible: list[PossiblePair] = []
    for score, i, j, reasons, rule in sorted(possible, key=lambda t: (-t[0], t[1], t[2])):
        ri, rj = root[i], root[j]
        if ri == rj:
            continue
        key = (min(ri, rj), max(ri, rj))
        if key in seen:
            continue
        seen.add(key)
        out_possible.append(PossiblePair(recs[i].id, recs[j].id, score, reasons, rule))
    out_possible.sort(key=lambda p: (p.a, p.b))
    if progress:
        progress(n, n)
    return DedupResult(
        certain=sorted((recs[i].id, recs[j].id) for i, j in certain_pairs),
        possible=out_possible,
    )


def _cluster(recs: list[_Rec], certain, blocked: set[tuple[int, int]]):
    """Union the certain pairs strongest first, refusing any link that would put two records
    that must stay apart into one group: a pair a person declared not duplicates, or two
    records with different PMIDs. Refused links are returned as possible pairs, with the
    group (root) of every record."""
    parent: dict[int, int] = {}
    members: dict[int, list[int]] = {}
    apart: dict[int, set[int]] = defaultdict(set)
    idx_of = {r.id: r.idx for r in recs}
    for x, y in blocked:
        if x in idx_of and y in idx_of:
            apart[idx_of[x]].add(idx_of[y])
            apart[idx_of[y]].add(idx_of[x])
    pmids: dict[int, frozenset[str]] = {}

    def find(x: int) -> int:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    kept: list[tuple[int, int]] = []
    demoted = []
    for score, i, j, reasons, _rule in sorted(certain, key=lambda t: (-t[0], t[1], t[2])):
        ri, rj = find(i), find(j)
        if ri == rj:
            kept.append((i, j))
            continue
        mi = members.get(ri, [ri])
        mj = members.get(rj, [rj])
        if apart:
            sj = set(mj)
            if any(apart[m] & sj for m in mi if m in apart):
                demoted.append((score, i, j, reasons + (RULES["not_duplicate_chain"],),
                                "not_duplicate_chain"))
                continue
        pi = pmids.get(ri, frozenset((recs[ri].pmid,)) if recs[ri].pmid else frozenset())
        pj = pmids.get(rj, frozenset((recs[rj].pmid,)) if recs[rj].pmid else frozenset())
        if pi and pj and not (pi & pj):
            demoted.append((score, i, j, reasons + (RULES["different_pmids_in_group"],),
                            "different_pmids_in_group"))
            continue
        if len(mi) < len(mj):
            ri, rj, mi, mj = rj, ri, mj, mi
        parent[rj] = ri
        members[ri] = mi + mj
        members.pop(rj, None)
        pmids[ri] = pi | pj
        kept.append((i, j))
    return kept, demoted, [find(i) for i in range(len(recs))]
