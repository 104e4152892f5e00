"""Shared helpers of the dedup benchmarks: load the labelled sets, cluster, score.

Standard library only (plus the project's references.dedup), so that the benchmarks run in the
project's own venv.
"""

from __future__ import annotations

import csv
import gzip
import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from references.dedup import DedupRecord  # noqa: E402

BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
TMP = BENCH / "tmp"


def benchdata_dir() -> Path:
    env = os.environ.get("BENCHDATA_DIR")
    if env:
        return Path(env)
    for cand in (ROOT.parent / "shared" / "benchdata", Path("/work/shared/benchdata")):
        if cand.is_dir():
            return cand
    raise SystemExit("benchdata not found: set BENCHDATA_DIR to shared/benchdata")


SETS = [
    "asysd_cardiac",
    "asysd_diabetes",
    "asysd_neuroimaging",
    "rathbone_cytology_screening",
    "rathbone_haematology",
    "rathbone_respiratory",
    "rathbone_stroke",
]

csv.field_size_limit(1 << 30)


def open_text(path: Path):
    if str(path).endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def records_file(set_name: str) -> Path:
    d = benchdata_dir() / "dedup" / set_name
    files = sorted(d.glob("records_pre_merged*.csv*"))
    if len(files) != 1:
        raise SystemExit(f"{d}: expected one records_pre_merged file, found {files}")
    return files[0]


def read_rows(path: Path) -> list[dict[str, str]]:
    with open_text(path) as fh:
        return list(csv.DictReader(fh))


def read_gold(set_name: str) -> list[list[str]]:
    path = benchdata_dir() / "dedup" / set_name / "merged_record_ids.csv"
    with open_text(path) as fh:
        return [row["merged_ids"].split(";") for row in csv.DictReader(fh) if row["merged_ids"]]


# ASySD exports glue authors together without a separator: "Przyklenk K.Kloner R. A.".
_GLUED_AUTHORS = re.compile(r"(?<=\.)(?=[^\W\d_][^\s.,]*)")
_PUBMED_URL = re.compile(r"ncbi\.nlm\.nih\.gov/pubmed/(\d{1,9})\b")


def split_authors(value: str) -> tuple[str, ...]:
    value = value.strip()
    if not value:
        return ()
    if " and " in value:
        parts = value.split(" and ")
    elif ";" in value:
        parts = value.split(";")
    else:
        parts = _GLUED_AUTHORS.split(value)
    return tuple(p.strip() for p in parts if p.strip())


def parse_year(value: str) -> int | None:
    m = re.search(r"\d{4}", value or "")
    return int(m.group()) if m else None


def row_to_record(i: int, row: dict[str, str], *, use_url_pmid: bool = False) -> DedupRecord:
    g = lambda k: (row.get(k) or "").strip()  # noqa: E731
    pmid = g("pmid")
    if not pmid and use_url_pmid:
        m = _PUBMED_URL.search(g("url"))
        if m:
            pmid = m.group(1)
    return DedupRecord(
        id=i,
        title=g("title"),
        abstract=g("abstract"),
        authors=split_authors(g("author")),
        year=parse_year(g("year")),
        journal=g("journal") or g("booktitle"),
        volume=g("volume"),
        issue=g("number"),
        pages=g("pages"),
        doi=g("doi").lower(),
        pmid=pmid,
        isbn="",  # the ASySD "isbn" column holds journal ISSNs, not book ISBNs
        publication_type=g("ENTRYTYPE"),
    )


@dataclass
class LabelledSet:
    name: str
    path: Path
    records: list[DedupRecord]
    ids: list[str]  # record id (row number) -> the file's ID column
    gold: list[list[str]]


def load_set(name: str, *, use_url_pmid: bool = False) -> LabelledSet:
    path = records_file(name)
    rows = read_rows(path)
    records = [row_to_record(i, r, use_url_pmid=use_url_pmid) for i, r in enumerate(rows)]
    return LabelledSet(name, path, records, [r["ID"] for r in rows], read_gold(name))


def clusters_from_pairs(n: int, pairs: Iterable[tuple[int, int]]) -> list[int]:
    """Union-find over record indices 0..n-1; returns each record's root (lowest member)."""
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            if ra < rb:
                parent[rb] = ra
            else:
                parent[ra] = rb
    return [find(i) for i in range(n)]


def score(ids: Sequence[str], gold: list[list[str]], roots: Sequence[str]) -> dict:
    """Score one dedup run, as shared/benchdata/README.md sections 1 and 5 describe.

    ids: the records' IDs; gold: the gold groups (lists of IDs); roots: for each record, the ID
    of its predicted cluster's representative. A predicted cluster keeps one record (the
    representative) and removes the others. Each gold group and each record in no group is
    one work. A work is lost when none of its records is kept; "left" counts the redundant
    records still present (kept records of a work beyond the first);
    sensitivity = (redundant - left) / redundant.
    """
    work_of: dict[str, int] = {}
    for w, group in enumerate(gold):
        for rid in group:
            work_of[rid] = w
    next_work = len(gold)
    for rid in ids:
        if rid not in work_of:
            work_of[rid] = next_work
            next_work += 1
    n_works = next_work
    kept_per_work = [0] * n_works
    size = [0] * n_works
    for rid, root in zip(ids, roots, strict=True):
        size[work_of[rid]] += 1
        if root == rid:
            kept_per_work[work_of[rid]] += 1
    redundant = sum(s - 1 for s in size if s)
    left = sum(max(k - 1, 0) for k in kept_per_work)
    lost = sum(1 for w in range(n_works) if size[w] and kept_per_work[w] == 0)
    removed = sum(1 for rid, root in zip(ids, roots, strict=True) if root != rid)
    return {
        "records": len(ids),
        "works": sum(1 for s in size if s),
        "redundant": redundant,
        "removed": removed,
        "left": left,
        "works_lost": lost,
        "sensitivity": round((redundant - left) / redundant, 4) if redundant else 1.0,
    }


def pair_precision(ids: Sequence[str], gold: list[list[str]], pairs) -> dict:
    """How many of the given index pairs join two records of the same gold work."""
    work_of: dict[str, int] = {}
    for w, group in enumerate(gold):
        for rid in group:
            work_of[rid] = w
    tp = sum(
        1
        for a, b in pairs
        if ids[a] in work_of and work_of.get(ids[a]) == work_of.get(ids[b])
    )
    n = len(pairs)
    return {"pairs": n, "true": tp, "precision": round(tp / n, 4) if n else None}
