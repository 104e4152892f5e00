"""The PRISMA flow of a 100,000-record project, and the overview page that shows it.

    .venv/bin/python bench/prisma.py [--runs 7] [--reuse-db] [--keep-db]

The project is the one of bench/exports.py (100,000 records from four databases, 10,000 of
them duplicates, every screening state at both stages, 1,000 included studies extracted and
coded; built by bulk inserts in BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/tandem_bench_exports). With --reuse-db the database an
earlier `exports.py --keep-db` (or `prisma.py --keep-db`) left is measured as it is.

Measured, each the median of --runs after one warm-up: `screening.prisma.prisma_counts`,
`reports.prisma.flow` (the counts the diagram, JSON and CSV use), the SVG drawn from it, the
count and first page of the largest record list (records screened), and the overview page
(reports:overview, as the lead, through Django's test client: every query of the page).
Goal (issue 11): PRISMA counts at 100,000 records in <= 500 ms. Never a timed test.
Writes bench/results/prisma.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_MS = 500


def exports_bench():
    spec = importlib.util.spec_from_file_location("bench_exports", ROOT / "bench/exports.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT / "bench"))
    spec.loader.exec_module(module)
    return module


def timed(fn, runs: int) -> tuple[float, object]:
    value = fn()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 1), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--reuse-db", action="store_true")
    args = parser.parse_args()

    bench = exports_bench()
    url = os.environ.get("BENCH_DATABASE_URL", bench.DEFAULT_URL)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "reviewapp.settings",
           "DEBUG": "1", "CELERY_BROKER_URL": "memory://",
           "MEDIA_ROOT": tempfile.mkdtemp(prefix="tandem-bench-media-"),
           "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1"}
    env.pop("TANDEM_DEMO", None)
    if not args.reuse_db:
        bench.fresh_database(url, env)
    os.environ["ALLOWED_HOSTS"] = env["ALLOWED_HOSTS"]
    bench.setup_django(env)

    from django.db import connection
    from django.test import Client

    from accounts.models import User
    from projects.models import Project
    from references.models import Record
    from reports import prisma
    from reports.prisma_svg import render_svg
    from screening.prisma import prisma_counts

    try:
        if args.reuse_db:
            setup = {"reused": True}
        else:
            users = {name: User.objects.create_user(name, password="bench-exports-2")
                     for name in ("lead", "ada", "ben")}
            setup = bench.make_project(users)
        project = Project.objects.get(slug=bench.SLUG)
        project.membership = None
        records = Record.objects.filter(project=project).count()
        runs = args.runs
        counts_ms, counts = timed(lambda: prisma_counts(project), runs)
        flow_ms, flow = timed(lambda: prisma.flow(project), runs)
        svg_ms, svg = timed(lambda: render_svg(flow), runs)
        listing = prisma.box_records(project, "screened").order_by("pk")
        list_ms, first_page = timed(lambda: (listing.count(), list(listing[:50])), runs)
        client = Client()
        client.force_login(User.objects.get(username="lead"))
        page = f"/p/{project.slug}/"

        def overview():
            response = client.get(page)
            assert response.status_code == 200, response.status_code
            return len(response.content)

        overview_ms, overview_bytes = timed(overview, runs)
        result = {
            "goal": {"prisma_counts_ms": GOAL_MS},
            "setup": setup,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "postgres": connection.cursor().connection.info.server_version},
            "git": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                  capture_output=True, text=True).stdout.strip(),
            "records": records,
            "runs": runs,
            "ms": {"prisma_counts": counts_ms, "flow": flow_ms, "svg": svg_ms,
                   "screened_list_count_and_first_page": list_ms, "overview_page": overview_ms},
            "overview_bytes": overview_bytes,
            "svg_bytes": len(svg),
            "flow": flow.as_json(),
            "problems": flow.problems,
            "met": {"prisma_counts_under_500_ms": counts_ms <= GOAL_MS and flow_ms <= GOAL_MS},
            "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        del counts, first_page
    finally:
        if not args.keep_db:
            from django.db import connections

            connections.close_all()
            bench.drop_database(url, env)

    out = ROOT / "bench/results/prisma.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["ms"]), f"records={records}", f"met={result['met']}",
          f"-> {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
