"""Build a 100,000-record dedup benchmark by scaling up the 7 labelled sets.

    .venv/bin/python bench/make_100k.py [--records 100000] [--out bench/tmp]

All 7 sets (20,782 records) are copied into replicas 0, 1, 2, ... until the target count is
reached (the last replica is cut short). Replica 0 is the original data. In replica r > 0 every
record is perturbed so that it describes a *different* work than its copies in other replicas,
while the records of one gold group stay duplicates of each other (the same perturbation is
applied to all of them, word by word):

* title: about one word in four is replaced by another word (a fixed word -> word mapping per
  replica; a word is replaced or not whatever title it is in). Words are chosen and mapped by
  their canonical spelling
  (references.dedup.title_words: "randomised" and "randomized" are one word), so that the
  spelling variants of one gold group stay variants of each other and do not become two
  different words;
* year - 3r; volume + 11r (its volume number: a supplement's number stays); every page
  number + 97r; DOI + ".r<r>"; PMID + 10,000,000 r;
* abstract: every fourth word replaced (mapping per replica); records without an abstract
  (the Rathbone sets have none) get a generated one, the same for all records of a work,
  built from a vocabulary of real abstract words, so that the file reaches a realistic size
  (~180 MB).

The issue field is copied, except for a set whose `number` column counts records (every value
distinct: rathbone_respiratory holds its EndNote record numbers there): find_duplicates
recognises such a field in one export, but copied into several replicas the numbers would
repeat and look like issue numbers.

Authors and journals are kept: same authors writing another paper in the same journal is
realistic and makes the cross-replica pairs hard negatives for blocking and scoring.

Writes (gitignored): <out>/dedup_100k.ris (RIS with abstracts) and <out>/dedup_100k_gold.json
({"ids": [RIS ID per record, in file order], "groups": [[index, ...], ...]}).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import SETS, TMP, read_gold, read_rows, records_file, split_authors  # noqa: E402

from references.dedup import fold, parse_volume, title_words  # noqa: E402

WORD = re.compile(r"[A-Za-z]{3,}")


def h(*parts: object) -> int:
    return int.from_bytes(hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8)
                          .digest(), "big")


class Perturber:
    def __init__(self, vocab: list[str], weights: list[int]):
        self.vocab = vocab
        self.cum = list(itertools.accumulate(weights))

    def sub(self, word: str, r: int, salt: str) -> str:
        k = h(word.lower(), r, salt)
        new = self.vocab[k % len(self.vocab)]
        while new.lower() == word.lower() or len(new) < 4:
            k += 1
            new = self.vocab[k % len(self.vocab)]
        return new.capitalize() if word[:1].isupper() else new

    def title(self, title: str, r: int) -> str:
        if r == 0 or not title:
            return title
        def repl(m: re.Match[str]) -> str:
            c = _canon_word(m.group())
            if h(c, r, "t") % 4 == 0:
                new = self.sub(c, r, "t")
                return new.capitalize() if m.group()[:1].isupper() else new
            return m.group()

        return WORD.sub(repl, title)

    def abstract(self, text: str, r: int) -> str:
        if r == 0 or not text:
            return text
        out = []
        for k, tok in enumerate(text.split(" ")):
            out.append(self.sub(tok, r, "a") if (k + r) % 4 == 0 and WORD.fullmatch(tok) else tok)
        return " ".join(out)

    def generated_abstract(self, work_key: str, title: str, r: int) -> str:
        rng = random.Random(h(work_key, r, "gen"))
        n = rng.randint(70, 150)
        # Words drawn by their frequency in the real abstracts, so the text reads like one.
        words = rng.choices(self.vocab, cum_weights=self.cum, k=n)
        # Sentences of 12-25 words, with the title's words mixed in like a real abstract.
        tw = WORD.findall(title)
        out, k = [], 0
        for part in ("Background:", "Methods:", "Results:", "Conclusions:"):
            m = rng.randint(18, 45)
            chunk = words[k:k + m] + rng.sample(tw, min(len(tw), 3)) if tw else words[k:k + m]
            k += m
            out.append(part + " " + " ".join(chunk).capitalize() + ".")
        return " ".join(out)


def _canon_word(word: str) -> str:
    """The word as find_duplicates compares it (one form for spelling variants)."""
    return "".join(title_words(fold(word))) or word.lower()


def shift_numbers(s: str, delta: int) -> str:
    return re.sub(r"\d+", lambda m: str(int(m.group()) + delta), s) if s else s


def shift_volume(s: str, delta: int) -> str:
    """The volume number as find_duplicates reads it, shifted; the field's other numbers (a
    supplement's, a part's) stay."""
    main = parse_volume(s)[0]
    if not delta or not main:
        return s
    return re.sub(rf"(?<!\d)0*{main}(?!\d)", str(int(main) + delta), s, count=1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--out", default=str(TMP))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    base = []  # (set, row, work key)
    vocab_counter: dict[str, int] = {}
    record_numbers: set[str] = set()  # sets whose "number" column counts records
    for name in SETS:
        rows = read_rows(records_file(name))
        numbers = [row.get("number") or "" for row in rows]
        if all(numbers) and len(set(numbers)) == len(numbers):
            record_numbers.add(name)
        work_of = {}
        for w, group in enumerate(read_gold(name)):
            for rid in group:
                work_of[rid] = f"{name}:g{w}"
        for row in rows:
            base.append((name, row, work_of.get(row["ID"], f"{name}:{row['ID']}")))
            for w in WORD.findall(row.get("abstract") or "")[:200]:
                lw = w.lower()
                vocab_counter[lw] = vocab_counter.get(lw, 0) + 1
    vocab = sorted(w for w, c in vocab_counter.items() if c >= 3 and w.isalpha())
    pert = Perturber(vocab, [vocab_counter[w] for w in vocab])

    ris_path = out / "dedup_100k.ris"
    ids: list[str] = []
    groups: dict[str, list[int]] = {}
    with open(ris_path, "w", encoding="utf-8", newline="\n") as fh:
        r = 0
        while len(ids) < args.records:
            for name, row, work in base:
                if len(ids) >= args.records:
                    break
                def g(k: str, row=row) -> str:
                    return (row.get(k) or "").strip()

                rid = f"r{r}_{name}_{row['ID']}"
                title = pert.title(g("title"), r)
                year = g("year")
                if r and year.isdigit():
                    year = str(int(year) - 3 * r)
                abstract = g("abstract")
                abstract = (pert.abstract(abstract, r) if abstract
                            else pert.generated_abstract(work, g("title"), r))
                doi = g("doi")
                if r and doi:
                    doi = doi + f".r{r}"
                url = g("url")
                m = re.search(r"ncbi\.nlm\.nih\.gov/pubmed/(\d+)", url)
                pmid = str(int(m.group(1)) + 10_000_000 * r) if m else ""
                lines = [f"TY  - {'CONF' if g('ENTRYTYPE') == 'inproceedings' else 'JOUR'}",
                         f"ID  - {rid}"]
                if title:
                    lines.append("TI  - " + title.replace("\n", " "))
                for a in split_authors(g("author")):
                    lines.append("AU  - " + a)
                if year:
                    lines.append("PY  - " + year)
                if g("journal"):
                    lines.append("T2  - " + g("journal").replace("\n", " "))
                if g("volume"):
                    lines.append("VL  - " + shift_volume(g("volume"), 11 * r))
                if g("number") and name not in record_numbers:
                    lines.append("IS  - " + g("number"))
                if g("pages"):
                    lines.append("SP  - " + shift_numbers(g("pages"), 97 * r).replace("\n", " "))
                if abstract:
                    lines.append("AB  - " + abstract.replace("\n", " "))
                if doi:
                    lines.append("DO  - " + doi.replace("\n", " "))
                if pmid:
                    lines.append("AN  - " + pmid)
                lines.append("ER  - ")
                fh.write("\n".join(lines) + "\n\n")
                groups.setdefault(f"{r}:{work}", []).append(len(ids))
                ids.append(rid)
            r += 1
    gold = {"ids": ids, "groups": [g for g in groups.values() if len(g) > 1],
            "replicas": r, "source_records": len(base)}
    (out / "dedup_100k_gold.json").write_text(json.dumps(gold))
    size = ris_path.stat().st_size
    print(f"wrote {ris_path} ({len(ids):,} records, {size / 1e6:.1f} MB, {r} replicas) and "
          f"{out / 'dedup_100k_gold.json'} ({len(gold['groups']):,} groups)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
