"""Accuracy of deduplication through the product, not the function: each labelled set is
imported with `import_references` (CSV, columns guessed as a user would accept them),
deduplicated with `deduplicate` and read back with `export_records`, then scored exactly as
bench/dedup_accuracy.py scores the pure function (README of the benchmark data, §1 and §5).

    .venv/bin/python bench/dedup_pipeline.py [SET ...]

Writes bench/results/dedup_pipeline.json. Needs PostgreSQL at BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/tandem_bench_pipeline; the database is recreated).
"""

import csv
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, ROOT, SETS, read_gold, records_file, score  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tandem_bench_pipeline"


def manage(env: dict, *args: str) -> str:
    proc = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def main() -> None:
    sets = sys.argv[1:] or SETS
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    name = urlparse(url).path.lstrip("/")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "reviewapp.settings",
           "DEBUG": "1", "CELERY_BROKER_URL": "memory://"}
    env.pop("TANDEM_DEMO", None)
    subprocess.run(["psql", admin, "-qc", f'DROP DATABASE IF EXISTS "{name}"'], check=True)
    subprocess.run(["psql", admin, "-qc", f'CREATE DATABASE "{name}"'], check=True)
    manage(env, "migrate", "-v0")
    manage(env, "shell", "-c", "from accounts.models import User; "
                               "User.objects.create_user('bench', password='bench-pass-1')")
    previous = json.loads((RESULTS / "dedup_accuracy.json").read_text())["sets"]
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for set_name in sets:
            source = records_file(set_name)
            path = Path(tmp) / f"{set_name}.csv"
            opener = gzip.open if source.suffix == ".gz" else open
            with opener(source, "rb") as fin, open(path, "wb") as fout:
                shutil.copyfileobj(fin, fout)
            slug = set_name.replace("_", "-")
            manage(env, "create_project", slug, "--name", set_name, "--lead", "bench")
            started = time.monotonic()
            manage(env, "import_references", slug, str(path), "--source", set_name)
            imported = time.monotonic() - started
            started = time.monotonic()
            dedup_out = manage(env, "deduplicate", slug)
            deduplicated = time.monotonic() - started
            export = Path(tmp) / f"{set_name}-export.csv"
            manage(env, "export_records", slug, "--out", str(export))
            with open(export, newline="", encoding="utf-8") as handle:
                rows = list(csv.DictReader(handle))
            file_id = {row["record_id"]: row["source_record_id"] for row in rows}
            ids = [row["source_record_id"] for row in rows]
            roots = [file_id[row["duplicate_of"]] if row["duplicate_of"]
                     else row["source_record_id"] for row in rows]
            gold = read_gold(set_name)
            result = score(ids, gold, roots)
            # Precision of the merges the product made: of the records linked to a primary,
            # how many are the same work as it.
            work = {rid: w for w, group in enumerate(gold) for rid in group}
            merged = [(rid, root) for rid, root in zip(ids, roots, strict=True) if rid != root]
            true = sum(1 for rid, root in merged if rid in work and work[rid] == work.get(root))
            result["merge_precision"] = round(true / len(merged), 5) if merged else None
            result["possible_queue"] = sum(1 for line in dedup_out.splitlines()
                                           if line.startswith("possible")) and int(
                [line for line in dedup_out.splitlines()
                 if line.startswith("possible")][0].rsplit(" ", 1)[-1])
            result["seconds_import"] = round(imported, 2)
            result["seconds_deduplicate"] = round(deduplicated, 2)
            result["function_alone_sensitivity"] = previous[set_name]["ours"]["sensitivity"]
            result["bib_dedupe_sensitivity"] = previous[set_name].get(
                "bib_dedupe", {}).get("sensitivity")
            out[set_name] = result
            print(f"{set_name:30} lost {result['works_lost']} "
                  f"merge precision {result['merge_precision']} "
                  f"sens {result['sensitivity']:.4f} left {result['left']} "
                  f"queue {result['possible_queue']} "
                  f"(function alone {result['function_alone_sensitivity']:.4f}, "
                  f"bib-dedupe {result['bib_dedupe_sensitivity']})")
    (RESULTS / "dedup_pipeline.json").write_text(json.dumps({
        "what": "import_references (CSV) -> deduplicate -> export_records, scored per set",
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"), "sets": out}, indent=2) + "\n")
    subprocess.run(["psql", admin, "-qc", f'DROP DATABASE IF EXISTS "{name}"'], check=True)


if __name__ == "__main__":
    main()
