"""Side-by-side differences of two records, for the duplicate review queue."""

import difflib
import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

TOKEN = re.compile(r"\s+|[^\s]+")

COMPARED = [
    ("title", "Title"), ("authors", "Authors"), ("year", "Year"), ("journal", "Journal"),
    ("volume", "Volume"), ("issue", "Issue"), ("pages", "Pages"), ("doi", "DOI"),
    ("pmid", "PMID"), ("publication_type", "Type"), ("source", "Source"),
    ("abstract", "Abstract"),
]


def _text(record, name: str) -> str:
    value = getattr(record, name)
    if name == "authors":
        return "; ".join(value or [])
    if name == "source":
        return value.name
    return "" if value is None else str(value)


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
    """One row per field: label, both values marked up, and whether they differ."""
    rows = []
    for name, label in COMPARED:
        va, vb = _text(a, name), _text(b, name)
        if not va and not vb:
            continue
        ha, hb = word_diff(va, vb)
        rows.append({"label": label, "a": ha, "b": hb,
                     "differs": va.strip().lower() != vb.strip().lower()})
    return rows
