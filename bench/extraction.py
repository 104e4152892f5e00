"""The extraction table at the size of a large review: 1,000 included studies x 40 fields (5
of them repeating tables with 3 rows), each study extracted twice and settled by consensus.

    .venv/bin/python bench/extraction.py [--studies 1000] [--runs 5] [--keep-db]

1. A fresh database (BENCH_DATABASE_URL, default
   postgres://postgres@127.0.0.1:5432/tandem_bench_extraction; dropped and recreated),
   migrated. Then, in this process, by bulk inserts (not through the services: their cost is
   not what is measured): a lead and two reviewers, the project `extbench`, one record per
   study included at title/abstract and at full text, a form of 4 sections with 35 simple
   fields (every simple type in turn) and 5 repeating tables of 3 columns, and per study
   ada's and ben's complete extractions and a complete consensus: 40 answers each
   (120,000 answers), a fifth of them with a quote and page. Seeded random values.
2. Timings, each the best and the median of --runs (the first, cold, run reported apart):
   `extraction_table(project)`; the table page through Django's test client signed in as
   the lead (`/p/extbench/extraction/table/`, a filtered view and the last page); the export
   job (`extraction.jobs.run_export` under `projects.jobs.run_job`, as the worker runs it)
   writing the XLSX and the CSV zip. Queries per page are counted
   (CaptureQueriesContext), also at 1 and 3 studies of a small project, to show they do not
   grow.

Goals (issue 9): the table page <= 1 s, the XLSX <= 10 s. Writes
bench/results/extraction.json and prints a summary; drops the database unless --keep-db.
The app runs with DEBUG=1 (static files from the app folders), as `bench/import_speed.py`
measures pages.
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
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tandem_bench_extraction"
SLUG, SMALL_SLUG = "extbench", "extsmall"
GOALS = {"table_page_seconds": 1.0, "xlsx_seconds": 10.0}
SIMPLE_TYPES = ["short_text", "long_text", "integer", "decimal", "single_choice",
                "multi_choice", "yes_no", "date", "country"]
COUNTRIES = ["CA", "US", "GB", "AU", "KE", "BR", "IN", "NL", "SE", "ZA"]
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


# ---------------------------------------------------------------------------------------------
# The data


def make_form(project):
    from extraction.models import Field, Form, FormVersion, Section

    form = Form.objects.create(project=project, name="Bench form")
    version = FormVersion.objects.create(form=form, number=1, definition={})
    sections = [Section.objects.create(form=form, key=f"s{i}", title=f"Section {i + 1}",
                                       position=i) for i in range(4)]
    choices = [{"key": f"c{i}", "label": f"Category {i + 1}", "archived": False}
               for i in range(6)]
    fields, columns = [], {}
    for i in range(35):
        kind = SIMPLE_TYPES[i % len(SIMPLE_TYPES)]
        fields.append(Field.objects.create(
            form=form, section=sections[i % 4], key=f"f{i}", label=f"Field {i + 1} ({kind})",
            type=kind, position=i, unit="h" if kind == "decimal" else "",
            choices=choices if kind in ("single_choice", "multi_choice") else [],
            other_specify=kind == "single_choice"))
    for t in range(5):
        table = Field.objects.create(form=form, section=sections[t % 4], key=f"t{t}",
                                     label=f"Table {t + 1}", type="table", position=100 + t)
        columns[table.pk] = [
            Field.objects.create(form=form, parent=table, key=f"t{t}_type",
                                 label="Type", type="single_choice", choices=choices,
                                 position=0),
            Field.objects.create(form=form, parent=table, key=f"t{t}_role", label="Role",
                                 type="short_text", position=1),
            Field.objects.create(form=form, parent=table, key=f"t{t}_n", label="Number",
                                 type="integer", position=2),
        ]
        fields.append(table)
    return form, version, fields, columns


def value_for(rng: random.Random, field, columns) -> object:
    kind = field.type
    if kind == "short_text":
        return " ".join(rng.choices(WORDS, k=3))
    if kind == "long_text":
        return " ".join(rng.choices(WORDS, k=40))
    if kind == "integer":
        return str(rng.randint(1, 500))
    if kind == "decimal":
        return f"{rng.uniform(0, 100):.2f}"
    if kind == "single_choice":
        return f"c{rng.randrange(6)}"
    if kind == "multi_choice":
        return sorted(rng.sample([f"c{i}" for i in range(6)], k=rng.randint(1, 3)))
    if kind == "yes_no":
        return rng.choice(["yes", "no", "unclear"])
    if kind == "date":
        return f"{rng.randint(2005, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if kind == "country":
        return rng.choice(COUNTRIES)
    type_, role, number = columns[field.pk]
    return [{type_.key: f"c{rng.randrange(6)}", role.key: " ".join(rng.choices(WORDS, k=2)),
             number.key: str(rng.randint(1, 40))} for _ in range(3)]


def make_project(slug: str, n: int, users: dict, seed: int = 9) -> dict:
    from django.db import connection
    from django.utils import timezone
    from included import included_project  # bench/, beside this script

    from extraction.models import Answer, Extraction

    started = time.perf_counter()
    rng = random.Random(seed)
    now = timezone.now()
    project, studies, records = included_project(
        slug=slug, name=f"Extraction bench {slug}", n=n, users=users, rng=rng, words=WORDS,
        author=lambda i: f"Author{i}, A")
    form, version, fields, columns = make_form(project)
    extractions = Extraction.objects.bulk_create([
        Extraction(project=project, study=study, version=version, role=role,
                   reviewer=users[who], status=Extraction.Status.COMPLETE, completed_at=now)
        for study in studies
        for role, who in (("extractor", "ada"), ("extractor", "ben"), ("consensus", "lead"))],
        batch_size=5000)
    answers = []
    for extraction in extractions:
        for field in fields:
            quoted = rng.random() < 0.2
            answers.append(Answer(
                extraction=extraction, field=field, value=value_for(rng, field, columns),
                quote=" ".join(rng.choices(WORDS, k=12)) if quoted else "",
                page=str(rng.randint(1, 20)) if quoted else "",
                source="agreed" if extraction.role == "consensus" else "",
                updated_by=users["lead"], updated_at=now))
    Answer.objects.bulk_create(answers, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"studies": n, "fields": len(fields), "extractions": len(extractions),
            "answers": len(answers), "seconds": round(time.perf_counter() - started, 1)}


# ---------------------------------------------------------------------------------------------
# The measurements


def timed(function, runs: int) -> dict:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return {"first_s": round(times[0], 3), "best_s": round(min(times[1:] or times), 3),
            "median_s": round(statistics.median(times[1:] or times), 3), "runs": runs}


def page_queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


def run_export_job(project, user, file_format: str) -> dict:
    from extraction import jobs
    from projects.jobs import run_job
    from projects.models import Job

    job = Job.objects.create(project=project, kind=jobs.EXPORT, label="bench",
                             task_name="extraction.export_table", started_by=user,
                             params={"format": file_format})
    run_job(job.pk, jobs.run_export)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.message
    return {"bytes": job.result_file.size, "message": job.message}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--studies", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    media = tempfile.mkdtemp(prefix="tandem-bench-media-")
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "reviewapp.settings",
           "DEBUG": "1", "CELERY_BROKER_URL": "memory://", "MEDIA_ROOT": media}
    env.pop("TANDEM_DEMO", None)
    fresh_database(url, env)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DEBUG",
                                           "CELERY_BROKER_URL", "MEDIA_ROOT")})
    os.environ.pop("TANDEM_DEMO", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from accounts.models import User
    from extraction.queries import extraction_table
    from projects.models import Project

    settings.ALLOWED_HOSTS = ["*"]
    try:
        users = {name: User.objects.create_user(name, password="bench-extraction-2")
                 for name in ("lead", "ada", "ben")}
        setup = make_project(SLUG, args.studies, users)
        small = {n: make_project(f"{SMALL_SLUG}{n}", n, users, seed=n) for n in (1, 3)}
        project = Project.objects.get(slug=SLUG)
        client = Client()
        client.force_login(users["lead"])
        base = f"/p/{SLUG}/extraction/table/"
        last_page = (args.studies + 49) // 50
        urls = {"table": base, "filtered": f"{base}?a_f4=c1&a_f8=CA&q=author",
                "last_page": f"{base}?page={last_page}"}

        table = extraction_table(project)
        assert len(table.rows) == args.studies, len(table.rows)
        result = {
            "goal": GOALS,
            "setup": setup,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "postgres": connection.cursor().connection.info.server_version},
            "git": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                  capture_output=True, text=True).stdout.strip(),
            "extraction_table": timed(lambda: extraction_table(project), args.runs),
            "pages": {name: timed(lambda u=u: client.get(u), args.runs)
                      for name, u in urls.items()},
            "queries_per_page": {
                **{name: page_queries(client, u) for name, u in urls.items()},
                **{f"table_at_{n}_studies": page_queries(
                    client, f"/p/{SMALL_SLUG}{n}/extraction/table/") for n in small},
            },
            "page_bytes": len(client.get(base).content),
        }
        for file_format in ("xlsx", "csv"):
            outcome = {}
            timing = timed(lambda f=file_format, out=outcome: out.update(
                run_export_job(project, users["lead"], f)), max(2, args.runs // 2))
            result[f"{file_format}_job"] = {**timing, **outcome}
        result["met"] = {
            "table_page": result["pages"]["table"]["median_s"] <= GOALS["table_page_seconds"],
            "xlsx": result["xlsx_job"]["median_s"] <= GOALS["xlsx_seconds"],
        }
        result["measured_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    finally:
        if not args.keep_db:
            drop_database(url, env)

    out = ROOT / "bench/results/extraction.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"setup: {setup}")
    print(f"extraction_table(): {result['extraction_table']}")
    for name, timing in result["pages"].items():
        print(f"page {name}: {timing}")
    print(f"queries per page: {result['queries_per_page']}")
    for file_format in ("xlsx", "csv"):
        print(f"{file_format} job: {result[f'{file_format}_job']}")
    print(f"goals met: {result['met']}  -> {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
