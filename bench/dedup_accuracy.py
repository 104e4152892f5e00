"""Accuracy of references.dedup.find_duplicates on the labelled sets in shared/benchdata/dedup/.

    .venv/bin/python bench/dedup_accuracy.py [--with-bibdedupe] [--sets a,b] [--out PATH]

For each set: load records_pre_merged.csv[.gz] (record id = row number), run find_duplicates,
cluster the certain pairs (union-find; each cluster keeps its lowest ID and removes the others)
and score against merged_record_ids.csv as shared/benchdata/README.md sections 1 and 5 describe:
sensitivity = (redundant - left) / redundant, works lost = works with no record left,
left = redundant records still present. Also: possible-queue size, how many queued pairs are
true duplicates, precision of the certain pairs, time.

--with-bibdedupe also runs bib-dedupe (bench/run_bibdedupe.py in bench/.venv-bibdedupe, cpu=1)
on the same file and scores its clusters identically.
Writes bench/results/dedup_accuracy.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    BENCH,
    RESULTS,
    SETS,
    TMP,
    clusters_from_pairs,
    load_set,
    pair_precision,
    score,
)

from references.dedup import find_duplicates  # noqa: E402

BIBDEDUPE_PY = BENCH / ".venv-bibdedupe" / "bin" / "python"


def roots_to_ids(ids: list[str], roots: list[int]) -> list[str]:
    """Representative = the lowest ID of each cluster."""
    best: dict[int, str] = {}
    for rid, root in zip(ids, roots, strict=True):
        if root not in best or rid < best[root]:
            best[root] = rid
    return [best[root] for root in roots]


def run_ours(ls) -> dict:
    t0 = time.perf_counter()
    result = find_duplicates(ls.records)
    seconds = time.perf_counter() - t0
    n = len(ls.records)
    roots = clusters_from_pairs(n, result.certain)
    s = score(ls.ids, ls.gold, roots_to_ids(ls.ids, roots))
    s["seconds"] = round(seconds, 2)
    s["certain_pairs"] = pair_precision(ls.ids, ls.gold, result.certain)
    queue = pair_precision(ls.ids, ls.gold, [(p.a, p.b) for p in result.possible])
    s["possible_queue"] = queue["pairs"]
    s["possible_true_duplicates"] = queue["true"]
    # If a lead accepted every true pair of the queue:
    roots2 = clusters_from_pairs(
        n, list(result.certain) + [(p.a, p.b) for p in result.possible
                                   if _same_work(ls, p.a, p.b)])
    s2 = score(ls.ids, ls.gold, roots_to_ids(ls.ids, roots2))
    s["sensitivity_after_review"] = s2["sensitivity"]
    return s


_work_cache: dict[str, dict[str, int]] = {}


def _same_work(ls, a: int, b: int) -> bool:
    wk = _work_cache.get(ls.name)
    if wk is None:
        wk = {rid: w for w, g in enumerate(ls.gold) for rid in g}
        _work_cache[ls.name] = wk
    wa = wk.get(ls.ids[a])
    return wa is not None and wa == wk.get(ls.ids[b])


def run_bibdedupe(ls) -> dict:
    if not BIBDEDUPE_PY.exists():
        raise SystemExit("bench/.venv-bibdedupe missing: run sh bench/setup_bibdedupe.sh")
    TMP.mkdir(exist_ok=True)
    out = TMP / f"bibdedupe_{ls.name}.json"
    t0 = time.perf_counter()
    subprocess.run([str(BIBDEDUPE_PY), str(BENCH / "run_bibdedupe.py"), str(ls.path), str(out),
                    "--cpu", "1"], check=True)
    wall = time.perf_counter() - t0
    data = json.loads(out.read_text())
    root_of = {rid: rid for rid in ls.ids}
    for cluster in data["clusters"]:
        rep = min(cluster)
        for rid in cluster:
            root_of[rid] = rep
    s = score(ls.ids, ls.gold, [root_of[rid] for rid in ls.ids])
    s["seconds"] = data["seconds"]["total_without_load"]
    s["seconds_wall_subprocess"] = round(wall, 2)
    index = {rid: i for i, rid in enumerate(ls.ids)}
    pairs = [(index[c[0]], index[x]) for c in data["clusters"] for x in c[1:]]
    s["cluster_links_precision"] = pair_precision(ls.ids, ls.gold, pairs)
    maybe = [(index[a], index[b]) for a, b in data["maybe_pairs"]]
    q = pair_precision(ls.ids, ls.gold, maybe)
    s["possible_queue"] = q["pairs"]
    s["possible_true_duplicates"] = q["true"]
    s["version"] = data["version"]
    return s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--with-bibdedupe", action="store_true")
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--out", default=str(RESULTS / "dedup_accuracy.json"))
    parser.add_argument("--pmid-from-url", action="store_true",
                        help="take PMIDs from PubMed URLs in the url column (ASySD sets); off by "
                             "default so that both tools see the same fields")
    args = parser.parse_args()
    results: dict = {
        "what": "references.dedup.find_duplicates on shared/benchdata/dedup, automatic merges "
                "only (certain pairs), scored as in shared/benchdata/README.md section 5",
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "pmid_from_url": args.pmid_from_url,
        "sets": {},
    }
    rows = []
    for name in args.sets.split(","):
        ls = load_set(name, use_url_pmid=args.pmid_from_url)
        entry = {"records": len(ls.records), "ours": run_ours(ls)}
        if args.with_bibdedupe:
            entry["bib_dedupe"] = run_bibdedupe(ls)
        results["sets"][name] = entry
        rows.append((name, entry))
        o = entry["ours"]
        print(f"{name:28s} ours: sens {o['sensitivity']:.4f} lost {o['works_lost']:3d} "
              f"left {o['left']:4d} queue {o['possible_queue']:4d} "
              f"(true {o['possible_true_duplicates']:4d}) prec {o['certain_pairs']['precision']} "
              f"{o['seconds']:.2f}s", flush=True)
        if args.with_bibdedupe:
            b = entry["bib_dedupe"]
            print(f"{'':28s} bib-dedupe: sens {b['sensitivity']:.4f} lost {b['works_lost']:3d} "
                  f"left {b['left']:4d} maybe {b['possible_queue']:4d} {b['seconds']:.2f}s",
                  flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(_table(rows, args.with_bibdedupe))
    return 0


def _table(rows, with_bd: bool) -> str:
    head = "| set | n | ours sens. / lost / left / queue / s |"
    sep = "| --- | --- | --- |"
    if with_bd:
        head += " bib-dedupe sens. / lost / left / maybe / s |"
        sep += " --- |"
    lines = [head, sep]
    for name, e in rows:
        o = e["ours"]
        line = (f"| {name} | {e['records']:,} | {o['sensitivity']:.4f} / {o['works_lost']} / "
                f"{o['left']} / {o['possible_queue']} / {o['seconds']:.1f} |")
        if with_bd:
            b = e["bib_dedupe"]
            line += (f" {b['sensitivity']:.4f} / {b['works_lost']} / {b['left']} / "
                     f"{b['possible_queue']} / {b['seconds']:.1f} |")
        lines.append(line)
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
