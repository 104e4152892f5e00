"""Run bib-dedupe on one records file and write its clusters as JSON.

Run this with the python of bench/.venv-bibdedupe (made by bench/setup_bibdedupe.sh), not with
the project's venv: bib-dedupe needs pandas/numpy, which the project does not install.

    bench/.venv-bibdedupe/bin/python bench/run_bibdedupe.py RECORDS.csv[.gz] OUT.json [--cpu 1]

The records file has bib-dedupe's own column layout (ID, ENTRYTYPE, author, year, title, journal,
volume, number, pages, abstract, doi, ...), as the files in shared/benchdata/dedup/ do.
Procedure as in shared/benchdata/README.md section 5: prep -> block -> match -> cluster, only
pairs labelled "duplicate" are merged ("maybe" pairs are reported but not merged).
"""

import argparse
import json
import resource
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("records")
    parser.add_argument("out")
    parser.add_argument("--cpu", type=int, default=1)
    args = parser.parse_args()

    t0 = time.perf_counter()
    import bib_dedupe.bib_dedupe as bd
    import pandas as pd
    from bib_dedupe import verbose_print

    verbose_print.verbosity_level = 0
    records = pd.read_csv(args.records, dtype=str, keep_default_na=False)
    t_load = time.perf_counter()
    prepared = bd.prep(records, cpu=args.cpu)
    t_prep = time.perf_counter()
    blocked = bd.block(prepared, cpu=args.cpu)
    t_block = time.perf_counter()
    matched = bd.match(blocked, cpu=args.cpu)
    t_match = time.perf_counter()
    clusters = bd.cluster(matched)
    t_cluster = time.perf_counter()

    maybe = []
    if len(matched):
        m = matched[matched["duplicate_label"] == "maybe"]
        maybe = [[str(a), str(b)] for a, b in zip(m["ID_1"], m["ID_2"], strict=True)]
    try:
        import importlib.metadata as md

        version = md.version("bib-dedupe")
    except Exception:  # pragma: no cover - informational only
        version = "unknown"
    result = {
        "tool": "bib-dedupe",
        "version": version,
        "cpu": args.cpu,
        "n_records": int(len(records)),
        "clusters": [[str(x) for x in c] for c in clusters],
        "maybe_pairs": maybe,
        "n_blocked_pairs": int(len(blocked)),
        "seconds": {
            "load_csv": round(t_load - t0, 3),
            "prep": round(t_prep - t_load, 3),
            "block": round(t_block - t_prep, 3),
            "match": round(t_match - t_block, 3),
            "cluster": round(t_cluster - t_match, 3),
            "total_without_load": round(t_cluster - t_load, 3),
        },
        # ru_maxrss is in KiB on Linux
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(result, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
