"""Every export of the reports app at the size of a large review: 100,000 records, 1,000
included studies extracted twice with consensus and coded against the seven frameworks.

    .venv/bin/python bench/exports.py [--runs 1] [--keep-db] [--reuse-db]

1. A fresh database (BENCH_DATABASE_URL, default
   postgres://postgres@127.0.0.1:5432/tandem_bench_exports; dropped and recreated),
   migrated. Then, in this process, by bulk inserts (not through the services): the project
   `expbench` with 1,000 included studies, their extractions and consensus (the builder of
   bench/extraction.py) and their coding (the builder of bench/frameworks.py, on the same
   studies), and 99,000 more records from four database sources, each with a ~180-word
   abstract, 3 authors, journal, volume, issue, pages, DOI, PMID and 4 keywords: 10,000 of
   them duplicates; of the rest 80,000 excluded at title and abstract (1,000 of them by a
   lead's resolution of a conflict), 2,000 in conflict, 2,000 waiting for a second vote, and
   5,000 included there, of which 4,000 are excluded at full text with a reason, 500 not
   retrieved and 500 wait for a full-text vote. Every settled screening has its two votes
   (about 190,000 votes).
2. Each export runs as the worker runs it (`projects.jobs.run_job` with the export's handler)
   in a fresh child process, so its peak memory (the child's peak resident set, VmHWM, and
   its growth over the child's size before the export: Django and the apps loaded) is the
   export's alone. Seconds are the
   wall time of `run_job`, file writing and storing included; with --runs > 1 the median.

Goal (issue 11): every export streams or batches, so 100,000 records stay well under 1 GB.
Writes bench/results/exports.json and prints a summary; drops the database unless --keep-db
(--reuse-db measures a database kept by an earlier --keep-db run).
"""

from __future__ import annotations

import argparse
import importlib.util
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
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tandem_bench_exports"
SLUG = "expbench"
STUDIES, RECORDS = 1000, 100_000
GOALS = {"peak_rss_mb": 1024}
WORDS = ("trainee partnership knowledge user engagement clinician patient research co-design "
         "advisory committee mentorship capacity outcome barrier facilitator funding health "
         "system policy community integrated translation nursing education doctoral master "
         "postdoctoral participatory action qualitative methods stakeholder decision maker "
         "implementation evaluation").split()
SOURCES = ["MEDLINE (Ovid)", "Embase", "CINAHL (EBSCO)", "PsycINFO (EBSCO)"]
# (label, export key, format, selection)
EXPORTS = [
    ("references_ris_all", "references", "ris", "all"),
    ("references_bibtex_all", "references", "bibtex", "all"),
    ("references_csv_all", "references", "csv", "all"),
    ("references_ris_included_reports", "references", "ris", "included_reports"),
    ("decisions_csv", "decisions", "csv", ""),
    ("decisions_xlsx", "decisions", "xlsx", ""),
    ("agreement_csv", "agreement", "csv", ""),
    ("agreement_xlsx", "agreement", "xlsx", ""),
    ("extraction_table_xlsx", "extraction_table", "xlsx", ""),
    ("extraction_table_csv", "extraction_table", "csv", ""),
    ("raw_extractions_xlsx", "raw_extractions", "xlsx", ""),
    ("raw_extractions_csv", "raw_extractions", "csv", ""),
    ("charting_xlsx", "charting", "xlsx", ""),
    ("charting_zip", "charting", "zip", ""),
]


def sh(cmd: list[str], env: dict) -> None:
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)


def fresh_database(url: str, env: dict) -> None:
    name = urlparse(url).path.lstrip("/")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    sh(["psql", admin, "-qc", f'DROP DATABASE IF EXISTS "{name}"'], env)
    sh(["psql", admin, "-qc", f'CREATE DATABASE "{name}"'], env)
    sh([sys.executable, "manage.py", "migrate", "-v0"], env)


def drop_database(url: str, env: dict) -> None:
    name = urlparse(url).path.lstrip("/")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    sh(["psql", admin, "-qc", f'DROP DATABASE IF EXISTS "{name}"'], env)


def bench_module(name: str):
    """bench/<name>.py under another name: `extraction` and `frameworks` are the apps'."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------------------------
# The data


def make_project(users: dict, seed: int = 11) -> dict:
    """The 1,000 extracted and coded studies, then the other 99,000 records."""
    import included  # bench/, on the path

    started = time.perf_counter()
    extraction_bench, frameworks_bench = bench_module("extraction"), bench_module("frameworks")
    extracted = extraction_bench.make_project(SLUG, STUDIES, users)

    from projects.models import Project
    from references.models import Record, Study

    project = Project.objects.get(slug=SLUG)
    studies = list(Study.objects.filter(project=project).order_by("id"))
    records = list(Record.objects.filter(project=project).order_by("id"))
    builder = included.included_project
    included.included_project = lambda **kwargs: (project, studies, records)
    try:  # the frameworks bench's coding, on these studies
        coded = frameworks_bench.make_project(SLUG, STUDIES, users)
    finally:
        included.included_project = builder
    screened = add_records(project, records, users, random.Random(seed))
    return {"extraction": extracted, "coding": coded, "records": screened,
            "seconds": round(time.perf_counter() - started, 1)}


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choices(WORDS, k=n)).capitalize() + "."


def add_records(project, included_records, users: dict, rng: random.Random) -> dict:
    from django.db import connection
    from django.utils import timezone

    from references.models import Record, Source, Study
    from screening.models import ExclusionReason, Screening, Stage, StageSettings, Vote
    from screening.services import settings_for

    now = timezone.now()
    ada, ben, lead = users["ada"], users["ben"], users["lead"]
    TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT
    S = Screening.State
    settings_for(project, TA)
    settings_for(project, FT)
    assert StageSettings.objects.filter(project=project).count() == 2
    reasons = list(ExclusionReason.objects.filter(project=project, stage=FT))

    # The included studies' records: abstracts and their votes (the builder wrote the
    # screenings alone).
    for record in included_records:
        record.abstract = _text(rng, 180)
    Record.objects.bulk_update(included_records, ["abstract"], batch_size=2000)
    votes = [Vote(screening=s, reviewer=who, decision="include", created_at=now,
                  updated_at=now)
             for s in Screening.objects.filter(project=project) for who in (ada, ben)]

    extra = RECORDS - len(included_records)
    per_source = -(-extra // len(SOURCES))
    sources = [Source.objects.create(project=project, name=name, record_count=per_source)
               for name in SOURCES]
    plan = ([("ta_excluded", 79_000), ("ta_resolved_excluded", 1_000), ("ta_conflict", 2_000),
             ("ta_pending", 2_000), ("ft_excluded", 4_000), ("ft_not_retrieved", 500),
             ("ft_pending", 500)])
    fates = [fate for fate, n in plan for _ in range(n)]
    rng.shuffle(fates)
    primaries = len(fates)
    duplicates = extra - primaries  # the rest: 10,000 at 100,000 records

    made = []
    position = 0
    for start in range(0, primaries, 10_000):
        chunk = fates[start:start + 10_000]
        new_studies = Study.objects.bulk_create([Study(project=project) for _ in chunk])
        batch = []
        for study in new_studies:
            source = sources[position % len(SOURCES)]
            position += 1
            batch.append(_record(project, source, study, position, rng))
        made += Record.objects.bulk_create(batch, batch_size=2000)
    primary_records = made
    dups = []
    for i in range(duplicates):
        primary = primary_records[rng.randrange(len(primary_records))]
        source = sources[(position + i) % len(SOURCES)]
        record = _record(project, source, None, position + i + 1, rng, like=primary)
        record.study_id, record.duplicate_of_id = primary.study_id, primary.pk
        record.merged_at = now
        dups.append(record)
    Record.objects.bulk_create(dups, batch_size=2000)

    screenings, outcomes = [], []
    reason_of = {}
    for record, fate in zip(primary_records, fates, strict=True):
        if fate.startswith("ta_"):
            state = {"ta_excluded": S.EXCLUDED, "ta_resolved_excluded": S.EXCLUDED,
                     "ta_conflict": S.CONFLICT, "ta_pending": S.PENDING}[fate]
            n = 1 if fate == "ta_pending" else 2
            screenings.append(Screening(
                project=project, record=record, stage=TA, state=state, votes_in=n,
                settled_at=now if state == S.EXCLUDED else None,
                settled_by=lead if fate == "ta_resolved_excluded" else None,
                note="Out of scope" if fate == "ta_resolved_excluded" else ""))
            outcomes.append(fate)
            continue
        screenings.append(Screening(project=project, record=record, stage=TA,
                                    state=S.INCLUDED, votes_in=2, settled_at=now))
        outcomes.append("ta_included")
        if fate == "ft_excluded":
            reason_of[record.pk] = rng.choice(reasons)
            screenings.append(Screening(project=project, record=record, stage=FT,
                                        state=S.EXCLUDED, votes_in=2, settled_at=now,
                                        reason=reason_of[record.pk]))
        elif fate == "ft_not_retrieved":
            screenings.append(Screening(project=project, record=record, stage=FT,
                                        state=S.NOT_RETRIEVED, votes_in=0))
        else:
            screenings.append(Screening(project=project, record=record, stage=FT,
                                        state=S.PENDING, votes_in=1))
        outcomes.append(fate)
    made_screenings = Screening.objects.bulk_create(screenings, batch_size=5000)
    for screening, fate in zip(made_screenings, outcomes, strict=True):
        if fate in ("ta_excluded", "ft_excluded"):
            reason = reason_of.get(screening.record_id) if screening.stage == FT else None
            votes += [Vote(screening=screening, reviewer=who, decision="exclude",
                           reason=reason, created_at=now, updated_at=now) for who in (ada, ben)]
        elif fate in ("ta_resolved_excluded", "ta_conflict"):
            votes += [Vote(screening=screening, reviewer=ada, decision="include",
                           created_at=now, updated_at=now),
                      Vote(screening=screening, reviewer=ben, decision="exclude",
                           note="Not about trainees", created_at=now, updated_at=now)]
        elif fate == "ta_included":
            votes += [Vote(screening=screening, reviewer=who, decision="include",
                           created_at=now, updated_at=now) for who in (ada, ben)]
        elif fate in ("ta_pending", "ft_pending"):
            votes.append(Vote(screening=screening, reviewer=ada, decision="include",
                              created_at=now, updated_at=now))
    Vote.objects.bulk_create(votes, batch_size=10_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"records": Record.objects.filter(project=project).count(),
            "duplicates": duplicates, "screenings": Screening.objects.filter(
                project=project).count(), "votes": len(votes)}


def _record(project, source, study, position, rng, like=None):
    from references.models import Record

    if like is not None:  # a duplicate: the same work from another database
        return Record(project=project, source=source, study=study, source_position=position,
                      title=like.title, abstract=like.abstract, authors=like.authors,
                      year=like.year, journal=like.journal, volume=like.volume,
                      issue=like.issue, pages=like.pages, doi=like.doi, pmid=like.pmid,
                      keywords=like.keywords, publication_type="JOUR")
    first = rng.randint(1, 900)
    return Record(
        project=project, source=source, study=study, source_position=position,
        title=_text(rng, rng.randint(8, 14))[:-1], abstract=_text(rng, 180),
        authors=[f"Author{rng.randrange(5000)}, {c}." for c in "ABC"],
        year=rng.randint(1995, 2024), journal=f"Journal of {rng.choice(WORDS).title()}",
        volume=str(rng.randint(1, 60)), issue=str(rng.randint(1, 12)),
        pages=f"{first}-{first + rng.randint(5, 20)}", doi=f"10.1000/bench.{position}",
        pmid=str(30_000_000 + position), keywords=rng.sample(WORDS, 4),
        publication_type="JOUR")


# ---------------------------------------------------------------------------------------------
# The measurements


def memory_kb(name: str) -> int:
    """VmRSS (resident now) or VmHWM (the peak) of this process, in KB. Not getrusage's
    ru_maxrss: a child started by fork and exec inherits its parent's peak there, while
    VmHWM starts again with the new program."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {name} in /proc/self/status")


def run_child(export: str, file_format: str, which: str) -> dict:
    """In a child process (Django set up): run one export as the worker does."""
    from django.db import connection

    from accounts.models import User
    from extraction import jobs as extraction_jobs
    from projects.jobs import run_job
    from projects.models import Job, Project
    from reports import export_jobs

    project = Project.objects.get(slug=SLUG)
    user = User.objects.get(username="lead")
    spec = export_jobs.EXPORTS[export]
    handler = extraction_jobs.run_export if spec.kind == extraction_jobs.EXPORT \
        else export_jobs.run_export
    params = {"format": file_format, **({"which": which} if which else {})}
    job = Job.objects.create(project=project, kind=spec.kind, label="bench", params=params,
                             task_name="bench", started_by=user)
    connection.close()  # the job opens its own connection, as a worker's task does
    before = memory_kb("VmRSS")
    started = time.perf_counter()
    run_job(job.pk, handler)
    seconds = time.perf_counter() - started
    peak = memory_kb("VmHWM")
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.message
    outcome = {"seconds": round(seconds, 2), "peak_rss_mb": round(peak / 1024, 1),
               "growth_mb": round((peak - before) / 1024, 1), "bytes": job.result_file.size,
               "rows": (job.result or {}).get("rows"), "message": job.message}
    job.result_file.delete(save=False)
    job.delete()
    return outcome


def measure(env: dict, export: str, file_format: str, which: str, runs: int) -> dict:
    outcomes = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, __file__, "--child", export, file_format,
                               which or "-"], cwd=ROOT, env=env, check=True,
                              capture_output=True, text=True)
        outcomes.append(json.loads(done.stdout.strip().splitlines()[-1]))
    best = outcomes[0] if runs == 1 else {
        **outcomes[-1], "seconds": round(statistics.median(o["seconds"] for o in outcomes), 2),
        "peak_rss_mb": max(o["peak_rss_mb"] for o in outcomes),
        "growth_mb": max(o["growth_mb"] for o in outcomes), "runs": runs}
    return best


def setup_django(env: dict) -> None:
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DEBUG",
                                           "CELERY_BROKER_URL", "MEDIA_ROOT")})
    os.environ.pop("TANDEM_DEMO", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--reuse-db", action="store_true")
    parser.add_argument("--only", help="comma-separated labels of EXPORTS to measure")
    parser.add_argument("--child", nargs=3, metavar=("EXPORT", "FORMAT", "WHICH"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    if args.child:
        setup_django({**os.environ, "DATABASE_URL": url})
        export, file_format, which = args.child
        print(json.dumps(run_child(export, file_format, "" if which == "-" else which)))
        return

    media = tempfile.mkdtemp(prefix="tandem-bench-media-")
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "reviewapp.settings",
           "DEBUG": "1", "CELERY_BROKER_URL": "memory://", "MEDIA_ROOT": media,
           "BENCH_DATABASE_URL": url}
    env.pop("TANDEM_DEMO", None)
    if not args.reuse_db:
        fresh_database(url, env)
    setup_django(env)
    from django.db import connection

    from accounts.models import User

    try:
        if args.reuse_db:
            setup = {"reused": True}
        else:
            users = {name: User.objects.create_user(name, password="bench-exports-2")
                     for name in ("lead", "ada", "ben")}
            setup = make_project(users)
        print(f"setup: {setup}", flush=True)
        result = {
            "goal": GOALS,
            "setup": setup,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "postgres": connection.cursor().connection.info.server_version},
            "git": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                  capture_output=True, text=True).stdout.strip(),
            "exports": {},
        }
        connection.close()
        only = set(args.only.split(",")) if args.only else None
        for label, export, file_format, which in EXPORTS:
            if only and label not in only:
                continue
            result["exports"][label] = measure(env, export, file_format, which, args.runs)
            print(f"{label}: {result['exports'][label]}", flush=True)
        result["met"] = {"peak_rss_under_1_gb": all(
            e["peak_rss_mb"] < GOALS["peak_rss_mb"] for e in result["exports"].values())}
        result["measured_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    finally:
        if not args.keep_db:
            from django.db import connections

            connections.close_all()
            drop_database(url, env)

    out = ROOT / "bench/results/exports.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"goals met: {result['met']}  -> {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
