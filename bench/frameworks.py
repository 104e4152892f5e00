"""Framework charting at the size of a large review: 1,000 included studies coded against the
seven built-in frameworks.

    .venv/bin/python bench/frameworks.py [--studies 1000] [--runs 5] [--keep-db]

1. A fresh database (BENCH_DATABASE_URL, default
   postgres://postgres@127.0.0.1:5432/tandem_bench_frameworks; dropped and recreated),
   migrated (so the catalogue's data migration has run). Then, in this process, by bulk
   inserts (not through the services: their cost is not what is measured): a lead and two
   reviewers, the project `fwbench`, one record per study included at title/abstract and at
   full text, a project copy of every catalogue framework with its categories, and per study
   a coding marked verified, 1-4 KTA phases, one IAP2 level, 1-3 research stages, WIDER
   text for 3 items and 1-2 mode-of-delivery tags, 3-8 barrier/facilitator excerpts (a TDF
   domain and its COM-B component, 1-2 McLeroy levels, one of 60 themes, 5 of them merged)
   and 1-2 outcome excerpts with an outcome category. Seeded random choices.
2. Timings, each the best and the median of --runs (the first, cold, run reported apart):
   `frameworks.queries.charting(project)`, the JSON export built from it, the matrix of
   every framework, and the charting page and the COM-B matrix page (1,000 rows x 20
   categories) through Django's test client as the lead (when the URLs are installed).
   Queries are counted for `charting()` at 1,000 studies and at 1 and 3 studies of a small
   project, to show they do not grow.

Goal (issue 10): charting of 1,000 coded studies computed in <= 1 s. Writes
bench/results/frameworks.json and prints a summary; drops the database unless --keep-db.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tandem_bench_frameworks"
SLUG, SMALL_SLUG = "fwbench", "fwsmall"
GOALS = {"charting_seconds": 1.0}
WORDS = ("trainee partnership knowledge user engagement clinician patient research "
         "co-design advisory committee mentorship capacity outcome barrier facilitator "
         "funding health system policy community").split()


def sh(cmd: list[str], env: dict) -> None:
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)


def fresh_database(url: str, env: dict) -> None:
    name = urlparse(url).path.lstrip("/")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    sh(["psql", admin, "-qc", f'DROP DATABASE IF EXISTS "{name}"'], env)
    sh(["psql", admin, "-qc", f'CREATE DATABASE "{name}"'], env)
    sh([sys.executable, "manage.py", "migrate", "-v0"], env)


def drop_database(url: str, env: dict) -> None:
    from django.db import connections

    connections.close_all()
    name = urlparse(url).path.lstrip("/")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    sh(["psql", admin, "-qc", f'DROP DATABASE IF EXISTS "{name}"'], env)


def copy_catalogue(project) -> dict:
    """The project's own copy of every catalogue framework: key -> (framework, categories)."""
    from django.db.models import F

    from frameworks.models import Category, Framework

    copies = {}
    for source in Framework.objects.filter(project__isnull=True).order_by("position", "id"):
        framework = Framework.objects.create(
            project=project, key=source.key, source_key=source.key, name=source.name,
            citation=source.citation, rule=source.rule, ordered=source.ordered,
            position=source.position)
        made = {}
        for category in source.categories.order_by(F("parent_id").asc(nulls_first=True),
                                                    "position", "id"):
            made[category.pk] = Category.objects.create(
                framework=framework, key=category.key, name=category.name,
                definition=category.definition, position=category.position,
                parent=made.get(category.parent_id))
        copies[source.key] = (framework, list(made.values()))
    assert len(copies) == 7, f"the catalogue has {len(copies)} frameworks, not 7"
    return copies


def make_project(slug: str, n: int, users: dict, seed: int = 9) -> dict:
    from django.db import connection
    from django.utils import timezone
    from included import included_project  # bench/, beside this script

    from frameworks.models import Excerpt, StudyCode, StudyCoding, Theme

    started = time.perf_counter()
    rng = random.Random(seed)
    now = timezone.now()
    project, studies, records = included_project(
        slug=slug, name=f"Frameworks bench {slug}", n=n, users=users, rng=rng, words=WORDS,
        author=lambda i: f"Author{rng.randrange(n)}, A")
    fw = copy_catalogue(project)

    def top(key):
        return [c for c in fw[key][1] if c.parent_id is None]

    kta, iap2, stages, wider = top("kta"), top("iap2"), top("research-stages"), top("wider")
    tags = [c for c in fw["wider"][1] if c.parent_id is not None]
    domains = [c for c in fw["com-b-tdf"][1] if c.parent_id is not None]
    levels, outcomes = top("mcleroy")[:3], top("outcomes")
    themes = Theme.objects.bulk_create([Theme(project=project, name=f"Theme {i + 1}")
                                        for i in range(60)])
    for merged in themes[55:]:
        merged.merged_into = themes[rng.randrange(55)]
    Theme.objects.bulk_update(themes[55:], ["merged_into"])

    StudyCoding.objects.bulk_create([
        StudyCoding(project=project, study=study, coder=users["ada"], verifier=users["ben"],
                    status=StudyCoding.Status.VERIFIED, coded_at=now, verified_at=now)
        for study in studies], batch_size=2000)
    codes, excerpts, picked = [], [], []
    for study in studies:
        chosen = (rng.sample(kta, rng.randint(1, 4)) + [rng.choice(iap2)]
                  + rng.sample(stages, rng.randint(1, 3)) + rng.sample(wider, 3)
                  + rng.sample(tags, rng.randint(1, 2)))
        for category in chosen:
            codes.append(StudyCode(project=project, study=study, category=category,
                                   coder=users["ada"], quote=" ".join(rng.choices(WORDS, k=10)),
                                   page=str(rng.randint(1, 20)),
                                   text=" ".join(rng.choices(WORDS, k=6))
                                   if category in wider else ""))
        for _ in range(rng.randint(3, 8)):
            domain = rng.choice(domains)
            excerpts.append(Excerpt(project=project, study=study,
                                    kind=rng.choice(["barrier", "facilitator"]),
                                    text=" ".join(rng.choices(WORDS, k=15)), coder=users["ada"],
                                    theme=rng.choice(themes)))
            picked.append([domain.pk, domain.parent_id,
                           *[c.pk for c in rng.sample(levels, rng.randint(1, 2))]])
        for _ in range(rng.randint(1, 2)):
            excerpts.append(Excerpt(project=project, study=study, kind="outcome",
                                    text=" ".join(rng.choices(WORDS, k=15)), coder=users["ada"]))
            picked.append([rng.choice(outcomes).pk])
    StudyCode.objects.bulk_create(codes, batch_size=5000)
    Excerpt.objects.bulk_create(excerpts, batch_size=5000)
    through = Excerpt.categories.through
    links = [through(excerpt_id=excerpt.pk, category_id=category_id)
             for excerpt, category_ids in zip(excerpts, picked, strict=True)
             for category_id in category_ids]
    through.objects.bulk_create(links, batch_size=10000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"studies": n, "study_codes": len(codes), "excerpts": len(excerpts),
            "excerpt_categories": len(links), "themes": len(themes),
            "seconds": round(time.perf_counter() - started, 1)}


def timed(function, runs: int) -> dict:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return {"first_s": round(times[0], 3), "best_s": round(min(times[1:] or times), 3),
            "median_s": round(statistics.median(times[1:] or times), 3), "runs": runs}


def count_queries(function) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        function()
    return len(captured)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--studies", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "reviewapp.settings",
           "DEBUG": "1", "CELERY_BROKER_URL": "memory://"}
    env.pop("TANDEM_DEMO", None)
    fresh_database(url, env)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DEBUG",
                                           "CELERY_BROKER_URL")})
    os.environ.pop("TANDEM_DEMO", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from accounts.models import User
    from frameworks import exports, queries
    from projects.models import Project

    settings.ALLOWED_HOSTS = ["*"]
    try:
        users = {name: User.objects.create_user(name, password="bench-frameworks-2")
                 for name in ("lead", "ada", "ben")}
        setup = make_project(SLUG, args.studies, users)
        for n in (1, 3):
            make_project(f"{SMALL_SLUG}{n}", n, users, seed=n)
        project = Project.objects.get(slug=SLUG)
        small = {n: Project.objects.get(slug=f"{SMALL_SLUG}{n}") for n in (1, 3)}
        chart = queries.charting(project)
        assert len(chart.studies) == args.studies, len(chart.studies)
        frameworks = [f.framework for f in chart.frameworks]
        result = {
            "goal": GOALS,
            "setup": setup,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "postgres": connection.cursor().connection.info.server_version},
            "git": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                  capture_output=True, text=True).stdout.strip(),
            "charting": timed(lambda: queries.charting(project), args.runs),
            "charting_json": timed(lambda: json.dumps(exports.charting_json(
                queries.charting(project))), args.runs),
            "matrix_every_framework": timed(
                lambda: [queries.matrix(project, f, chart) for f in frameworks], args.runs),
            "charting_queries": {
                f"at_{n}_studies": count_queries(
                    lambda n=n: queries.charting(small[n]))
                for n in (1, 3)},
            "themes": len(chart.themes),
            "categories": sum(len(f.categories) for f in chart.frameworks),
        }
        result["charting_queries"][f"at_{args.studies}_studies"] = count_queries(
            lambda: queries.charting(project))
        try:
            url_page = reverse("frameworks:charting", args=[SLUG])
        except NoReverseMatch:
            url_page = None
        if url_page:
            client = Client()
            client.force_login(users["lead"])
            assert client.get(url_page).status_code == 200
            result["charting_page"] = timed(lambda: client.get(url_page), args.runs)
            comb = next(f for f in frameworks if f.source_key == "com-b-tdf")
            url_matrix = reverse("frameworks:matrix", args=[SLUG, comb.pk])
            assert client.get(url_matrix).status_code == 200
            result["matrix_page_com_b"] = timed(lambda: client.get(url_matrix), args.runs)
            result["matrix_page_com_b"]["bytes"] = len(client.get(url_matrix).content)
        result["met"] = {"charting": result["charting"]["median_s"]
                         <= GOALS["charting_seconds"]}
        result["measured_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    finally:
        if not args.keep_db:
            drop_database(url, env)

    out = ROOT / "bench/results/frameworks.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"setup: {setup}")
    for name in ("charting", "charting_json", "matrix_every_framework", "charting_page",
                 "matrix_page_com_b"):
        if name in result:
            print(f"{name}: {result[name]}")
    print(f"queries of charting(): {result['charting_queries']}")
    print(f"goals met: {result['met']}  -> {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
