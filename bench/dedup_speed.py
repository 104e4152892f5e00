"""Speed and memory of find_duplicates on the 100,000-record file, and bib-dedupe beside it.

    .venv/bin/python bench/make_100k.py          # once: bench/tmp/dedup_100k.ris + gold
    .venv/bin/python bench/dedup_speed.py [--no-bibdedupe] [--bibdedupe-timeout 1200]
                                          [--subset 20782 --subset 50000] [--reuse-bibdedupe]

Our run happens in a fresh subprocess (so that its peak RSS is its own): it parses the RIS file
into DedupRecords (not timed), times find_duplicates alone, and reports the peak RSS of the
process (resource.getrusage, which includes the parsed records, as the worker would hold them).
bib-dedupe runs on the same records (written as a CSV in its own column layout) with
bench/run_bibdedupe.py in bench/.venv-bibdedupe, cpu=1, with a time limit. Both are scored
against the gold groups of the file. --subset N repeats both on the first N records (to see how
the time grows). Writes bench/results/dedup_speed.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH, RESULTS, TMP, clusters_from_pairs, score  # noqa: E402

BIBDEDUPE_PY = BENCH / ".venv-bibdedupe" / "bin" / "python"


def first(r: dict[str, list[str]], tag: str) -> str:
    return r.get(tag, [""])[0]


def read_ris(path: Path) -> list[dict[str, list[str]]]:
    """A minimal RIS reader: one dict of tag -> values per record."""
    records: list[dict[str, list[str]]] = []
    cur: dict[str, list[str]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if len(line) >= 6 and line[2:6] == "  - ":
                tag, value = line[:2], line[6:].rstrip("\n")
                if tag == "ER":
                    records.append(cur)
                    cur = {}
                else:
                    cur.setdefault(tag, []).append(value)
    return records


def ris_to_dedup(records):
    from references.dedup import DedupRecord

    out = []
    for i, r in enumerate(records):
        def g(tag: str, r=r) -> str:
            return first(r, tag)

        year = g("PY")[:4]
        out.append(DedupRecord(
            id=i, title=g("TI"), abstract=g("AB"), authors=tuple(r.get("AU", ())),
            year=int(year) if year.isdigit() else None, journal=g("T2"), volume=g("VL"),
            issue=g("IS"), pages=g("SP"), doi=g("DO").lower(), pmid=g("AN"),
            publication_type=g("TY"),
        ))
    return out


def run_ours_child(ris: str, out: str, limit: int) -> int:
    """Runs in a subprocess: parse, time find_duplicates, report peak RSS."""
    from references.dedup import find_duplicates

    t0 = time.perf_counter()
    raw = read_ris(Path(ris))[:limit]
    records = ris_to_dedup(raw)
    ids = [r["ID"][0] for r in raw]
    del raw
    t_load = time.perf_counter() - t0
    rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    calls = []
    t1 = time.perf_counter()
    result = find_duplicates(records, progress=lambda d, t: calls.append(d))
    seconds = time.perf_counter() - t1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(out).write_text(json.dumps({
        "ids": ids, "certain": result.certain,
        "possible": [[p.a, p.b] for p in result.possible],
        "seconds_find_duplicates": round(seconds, 2), "seconds_parse_ris": round(t_load, 2),
        "peak_rss_mb": round(peak, 1), "rss_after_loading_mb": round(rss_loaded, 1),
        "progress_calls": len(calls),
    }))
    return 0


def write_bibdedupe_csv(ris: Path, path: Path, limit: int | None = None) -> int:
    raw = read_ris(ris)[:limit]
    cols = ["ID", "ENTRYTYPE", "author", "year", "title", "journal", "volume", "number", "pages",
            "abstract", "doi"]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for r in raw:
            def g(tag: str, r=r) -> str:
                return first(r, tag)

            w.writerow([g("ID"), "inproceedings" if g("TY") == "CONF" else "article",
                        " and ".join(r.get("AU", ())), g("PY"), g("TI"), g("T2"), g("VL"),
                        g("IS"), g("SP"), g("AB"), g("DO")])
    return len(raw)


def cross_work_pairs(gold: dict, ris: Path, certain) -> dict:
    """Certain pairs that join two different gold works, and how many of them join copies of
    one paper that is in two of the source sets (the 7 sets overlap a little; the generated
    gold keeps each set's groups apart): same title, year, volume and first page."""
    work = {}
    for w, grp in enumerate(gold["groups"]):
        for k in grp:
            work[k] = w
    wrong = [(a, b) for a, b in certain if work.get(a, -1 - a) != work.get(b, -2 - b)]
    if not wrong:
        return {"pairs": 0}
    from references.dedup import fold, parse_pages

    raw = read_ris(ris)

    def key(k):
        r = raw[k]
        return fold(first(r, "TI")), first(r, "PY"), first(r, "VL"), parse_pages(
            first(r, "SP"))[1]

    def source(k):
        return gold["ids"][k].split("_id_")[0].split("_", 1)[1]

    overlap = [(a, b) for a, b in wrong if source(a) != source(b) and key(a) == key(b)]
    return {"pairs": len(wrong), "same_paper_in_two_source_sets": len(overlap),
            "examples": [[gold["ids"][a], gold["ids"][b]] for a, b in wrong[:10]]}


def gold_score(gold: dict, ids: list[str], roots: list[str]) -> dict:
    groups = [[gold["ids"][k] for k in grp] for grp in gold["groups"]]
    return score(ids, groups, roots)


def subset_gold(gold: dict, limit: int) -> dict:
    groups = [[k for k in g if k < limit] for g in gold["groups"]]
    return {"ids": gold["ids"][:limit], "groups": [g for g in groups if len(g) > 1]}


def run_ours(ris: Path, gold: dict, limit: int) -> dict:
    out_json = TMP / f"speed_ours_{limit}.json"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--child", str(ris), str(out_json), str(limit)],
                   check=True)
    wall = time.perf_counter() - t0
    o = json.loads(out_json.read_text())
    n = len(o["ids"])
    roots_idx = clusters_from_pairs(n, [tuple(p) for p in o["certain"]])
    rep: dict[int, str] = {}
    for i, root in enumerate(roots_idx):
        if root not in rep or o["ids"][i] < rep[root]:
            rep[root] = o["ids"][i]
    return {
        "seconds_find_duplicates": o["seconds_find_duplicates"],
        "seconds_parse_ris": o["seconds_parse_ris"],
        "seconds_subprocess_wall": round(wall, 1),
        "peak_rss_mb": o["peak_rss_mb"],
        "rss_after_loading_records_mb": o["rss_after_loading_mb"],
        "certain_pairs": len(o["certain"]),
        "possible_queue": len(o["possible"]),
        "progress_calls": o["progress_calls"],
        "accuracy": gold_score(gold, o["ids"], [rep[r] for r in roots_idx]),
        "certain_pairs_across_gold_works": cross_work_pairs(gold, ris, o["certain"]),
    }


def run_bibdedupe(ris: Path, gold: dict, limit: int, timeout: int, reuse: bool) -> dict:
    if not BIBDEDUPE_PY.exists():
        raise SystemExit("bench/.venv-bibdedupe missing: run sh bench/setup_bibdedupe.sh")
    csv_path = TMP / f"dedup_100k_bibdedupe_{limit}.csv"
    bd_json = TMP / f"speed_bibdedupe_{limit}.json"
    wall = None
    if not (reuse and bd_json.exists()):
        bd_json.unlink(missing_ok=True)
    t0 = time.perf_counter()
    try:
        if not bd_json.exists():
            write_bibdedupe_csv(ris, csv_path, limit)
            t0 = time.perf_counter()
            subprocess.run([str(BIBDEDUPE_PY), str(BENCH / "run_bibdedupe.py"), str(csv_path),
                            str(bd_json), "--cpu", "1"], check=True, timeout=timeout)
            wall = round(time.perf_counter() - t0, 1)
    except subprocess.TimeoutExpired:
        timed_out = {
            "timed_out_after_s": timeout, "cpu": 1,
            # ru_maxrss of waited-for children: the largest child so far (here bib-dedupe).
            "children_max_rss_mb": round(
                resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        }
        bd_json.write_text(json.dumps(timed_out))  # so that --reuse-bibdedupe keeps it
        return timed_out
    b = json.loads(bd_json.read_text())
    if "timed_out_after_s" in b:
        return b
    root_of = {rid: rid for rid in gold["ids"]}
    for cluster in b["clusters"]:
        m = min(cluster)
        for rid in cluster:
            root_of[rid] = m
    return {
        "version": b["version"], "cpu": 1, "seconds": b["seconds"],
        "seconds_subprocess_wall": wall, "peak_rss_mb": b["peak_rss_mb"],
        "maybe_pairs": len(b["maybe_pairs"]),
        "accuracy": gold_score(gold, gold["ids"], [root_of[r] for r in gold["ids"]]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ris", default=str(TMP / "dedup_100k.ris"))
    parser.add_argument("--gold", default=str(TMP / "dedup_100k_gold.json"))
    parser.add_argument("--no-bibdedupe", action="store_true")
    parser.add_argument("--bibdedupe-timeout", type=int, default=1200)
    parser.add_argument("--reuse-bibdedupe", action="store_true",
                        help="score bib-dedupe's JSON from an earlier run instead of running it "
                             "again (it takes minutes)")
    parser.add_argument("--subset", type=int, action="append", default=[],
                        help="also run both tools on the first N records (repeatable), to see "
                             "how their time grows")
    parser.add_argument("--out", default=str(RESULTS / "dedup_speed.json"))
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return run_ours_child(args.child[0], args.child[1], int(args.child[2]))

    ris = Path(args.ris)
    if not ris.exists():
        raise SystemExit(f"{ris} missing: run bench/make_100k.py first")
    gold = json.loads(Path(args.gold).read_text())
    result: dict = {
        "file": {"records": len(gold["ids"]), "size_mb": round(ris.stat().st_size / 1e6, 1),
                 "gold_groups": len(gold["groups"]), "made_by": "bench/make_100k.py"},
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count()},
        "note": "seconds_find_duplicates is the algorithm alone (records already in memory); "
                "bib-dedupe's seconds.total_without_load likewise excludes reading its CSV",
    }
    TMP.mkdir(exist_ok=True)
    out = Path(args.out)
    previous = json.loads(out.read_text()) if out.exists() else {}
    runs = [(len(gold["ids"]), gold)] + [(k, subset_gold(gold, k)) for k in sorted(args.subset)]
    for limit, g in runs:
        entry = {"records": limit, "ours": run_ours(ris, g, limit)}
        o = entry["ours"]
        print(f"{limit} records, ours: find_duplicates {o['seconds_find_duplicates']} s, peak "
              f"RSS {o['peak_rss_mb']} MB, {o['accuracy']}", flush=True)
        if not args.no_bibdedupe:
            entry["bib_dedupe"] = run_bibdedupe(ris, g, limit, args.bibdedupe_timeout,
                                                args.reuse_bibdedupe)
            print(f"{limit} records, bib-dedupe: {entry['bib_dedupe']}", flush=True)
        else:
            # Not run again: keep the figures of the last run that had them, said so.
            before = (previous if limit == len(gold["ids"])
                      else previous.get("subsets", {}).get(str(limit), {}))
            if "bib_dedupe" in before:
                entry["bib_dedupe"] = {**before["bib_dedupe"], "carried_over": (
                    before["bib_dedupe"].get("carried_over")
                    or f"not re-run; measured before {time.strftime('%Y-%m-%d')}")}
        if limit == len(gold["ids"]):
            result.update(entry)
        else:
            result.setdefault("subsets", {})[str(limit)] = entry
    result["measured_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
