"""Screening under load: 20 reviewers screening a 100,000-record project at the same time,
over HTTP on loopback, against gunicorn and PostgreSQL, signed in as real users.

    .venv/bin/python bench/screening_load.py [--file bench/tmp/dedup_100k.ris] [--keep-db]

Steps (about nine minutes on 2 cores):

1. A fresh database (BENCH_DATABASE_URL, default
   postgres://postgres@127.0.0.1:5432/tandem_bench_screening; dropped and recreated): migrate,
   a lead, 20 reviewers and a "probe" reviewer with passwords, the project `screenload` with
   them as members and the 100,000 records of `bench/tmp/dedup_100k.ris` imported with
   `import_references` (no deduplication: all 100,000 records are screenable), a project
   `screensmall` with the first 100 of them, then VACUUM ANALYZE.
2. Queries per request, measured without touching the app: the screen fragment and the vote
   run through Django's test client under `CaptureQueriesContext` in a `manage.py shell`
   process on the same database (users lead and probe, never used over HTTP), at the small
   and at the 100k project, 100 records voted.
3. gunicorn (`reviewapp.wsgi`, 3 sync workers as the Dockerfile runs it, DEBUG=0, whitenoise
   manifest storage over a collectstatic in a temporary STATIC_ROOT, CONN_MAX_AGE=60 from the
   settings). 20 client threads (standard
   library http.client), each with its own connection and cookies, sign in through
   /accounts/login/ and make decisions as the browser does: POST a vote (seeded random
   decision, mostly include) with the htmx header on the record on the screen ("vote"); its
   answer is the panel of the record fetched ahead (the vote includes looking it up), whose
   panel then GETs the record after it ("next": choosing and claiming the next record). The
   screen itself ("screen", the full panel) is loaded on a reviewer's first decision and
   reloaded every 20th. A vote answered with an error (another reviewer was faster) is a
   decision but not an accepted vote.
   * paced: one decision (POST + GET back to back, plus the reloads) per second per
     reviewer, 120 s;
   * unpaced: every thread as fast as it can, 60 s; while p95 > 250 ms, again with 10, 5, 2,
     1 threads: the throughput at which p95 stays <= 250 ms;
   * other gunicorn configurations (--compare), unpaced for a short while each.
   This server has autovacuum off: VACUUM ANALYZE of the screening tables runs every 30 s
   meanwhile, as autovacuum would (claims are inserted and deleted by the thousand).
4. Queries per request again (hundreds of records voted), then the integrity check: no
   Screening with more votes than needed, votes_in equals the votes, no double vote, every
   state follows from its votes, votes by the reviewers == accepted vote requests, one
   `vote.cast` audit event per vote.
5. 50,000 records settled in bulk by SQL (not through the app) and queries per request again:
   the screen when half of the project is done.
6. A second 100k project, `screenpairs`, whose records the lead assigns to the 10 pairs of
   reviewers first (`assign_batch`); the same load paced and unpaced, queries per request and
   the integrity check there (also: nobody votes on a record assigned to others).

Writes bench/results/screening_load.json, prints a summary, stops gunicorn (in a finally) and
drops the database (--keep-db keeps it). All traffic goes to 127.0.0.1; every request has a
timeout of 10 s and every phase a fixed duration.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tandem_bench_screening"
SLUG, SMALL_SLUG, PAIRS_SLUG = "screenload", "screensmall", "screenpairs"
REVIEWERS = 20
PASSWORD = "Screen-load-2-bench"
STAGE = "title_abstract"
REQUEST_TIMEOUT = 10.0
GOALS = {"paced": {"p95_ms": 50, "p99_ms": 150}, "unpaced_p95_ms": 250}

RECORD = re.compile(r'data-record="(\d*)"')
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ERROR_ALERT = re.compile(r'alert-danger[^>]*>\s*([^<]*?)\s*<', re.S)


# ---------------------------------------------------------------------------------------------
# Scripts run inside `manage.py shell -c` (same settings and database as gunicorn).

SETUP = r"""
import json
from django.contrib.auth.hashers import make_password
from accounts.models import User
from projects.models import Role
from projects.services import add_member, create_project
hashed = make_password(PASSWORD)  # one hash for all: creating the users stays fast
lead = User.objects.create(username="lead", email="lead@example.org", password=hashed)
reviewers = [User.objects.create(username=f"rev{i:02d}", email=f"rev{i:02d}@example.org",
                                 password=hashed) for i in range(1, N + 1)]
# "probe" votes through the test client only (queries per request), never over HTTP.
probe = User.objects.create(username="probe", email="probe@example.org", password=hashed)
for slug in (SLUG, SMALL_SLUG, PAIRS_SLUG):
    project = create_project(user=lead, name=f"Bench {slug}", slug=slug)
    for user in [*reviewers, probe]:
        add_member(project, member=user, role=Role.REVIEWER, user=lead)
print(json.dumps({"lead": lead.pk, "probe": probe.pk, "reviewers": [u.pk for u in reviewers]}))
"""

# Queries and time of the screen fragment and of a vote, through the test client. Statistics
# of the screening tables are refreshed first (this server runs without autovacuum).
MEASURE = r"""
import json, re, statistics, time
from django.conf import settings
settings.ALLOWED_HOSTS = ["*"]
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from accounts.models import User
from references.models import Record
from screening.models import Screening, Vote

from projects.models import Project
from screening import queries, services

RECORD = re.compile(rb'data-record="(\d*)"')
H = {"HTTP_HX_REQUEST": "true"}
EXEC = re.compile(r"Execution Time: ([0-9.]+) ms")
out = {}
for slug, username, seed_votes, repeats in JOBS:
    client = Client()
    user = User.objects.get(username=username)
    client.force_login(user)
    base = f"/p/{slug}/screening/title_abstract/"

    def rid(response):
        m = RECORD.search(response.content)
        return int(m.group(1)) if m and m.group(1) else None

    before = Vote.objects.filter(reviewer=user).count()
    project = Project.objects.get(slug=slug)
    for _ in range(seed_votes):  # votes before measuring, through the service (fast)
        services.record_vote(queries.next_record(project, "title_abstract", user),
                             stage="title_abstract", reviewer=user, decision="include")
    with connection.cursor() as cursor:  # this server runs without autovacuum
        cursor.execute("ANALYZE screening_screening, screening_vote, screening_assignment, "
                       "projects_auditevent")
    client.get(base + "screen/", **H)  # warm the process
    record = rid(client.get(base + "screen/", **H))

    def explain(sql, jit="on"):
        if not sql.lstrip().upper().startswith("SELECT"):
            return ""
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"SET jit = {jit}")
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                plan = "\n".join(r[0] for r in cursor.fetchall())
                cursor.execute("RESET jit")
                return plan
        except Exception as exc:
            return f"(no plan: {exc})"

    def exec_ms(plan):
        m = EXEC.search(plan)
        return float(m.group(1)) if m else None

    def measure(fn, outcome=None):
        runs = []
        for _ in range(repeats):
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response, target = fn()
                ms = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, response.status_code
            queries = [(float(q["time"]) * 1000, q["sql"]) for q in ctx.captured_queries]
            runs.append({"queries": len(queries), "ms": ms, "list": queries,
                         "outcome": outcome(response, target) if outcome else "screen"})
        slow = max(runs[-1]["list"], key=lambda q: q[0])
        plan, plan_off = explain(slow[1]), explain(slow[1], "off")
        by_outcome = {}
        for r in runs:
            by_outcome.setdefault(r["outcome"], set()).add(r["queries"])
        return {
            "queries": sorted({r["queries"] for r in runs}),
            "queries_by_outcome": {k: sorted(v) for k, v in by_outcome.items()},
            "ms_median": round(statistics.median(r["ms"] for r in runs), 1),
            "sql_ms_median": round(statistics.median(sum(t for t, _ in r["list"])
                                                     for r in runs), 1),
            "per_query_ms": [round(t, 1) for t, _ in runs[-1]["list"]],
            "sql": [s[:150] for _, s in runs[-1]["list"]],
            "slowest": {"ms": round(slow[0], 1), "sql": slow[1][:2500], "plan": plan,
                        "explain_ms_jit_on": exec_ms(plan),
                        "explain_ms_jit_off": exec_ms(plan_off)},
        }

    state = {"record": record}
    screen = measure(lambda: (client.get(base + "screen/", **H), None))

    def vote():
        target = state["record"]
        response = client.post(f"{base}records/{target}/vote/", {"decision": "include"}, **H)
        state["record"] = rid(response)
        return response, target

    def outcome(response, target):
        if b"alert-danger" in response.content:
            return "rejected"
        s = Screening.objects.get(record_id=target, stage="title_abstract")
        return "first vote" if s.votes_in == 1 else f"vote {s.votes_in}, {s.state}"

    voted = measure(vote, outcome) if state["record"] else None
    fetched_ahead = measure(lambda: (client.get(
        f"{base}screen/ahead/?current={state['record']}", **H), None)) \
        if state["record"] else None
    out[f"{slug}:{username}"] = {
        "project": slug, "reviewer": username,
        "records": Record.objects.filter(project__slug=slug).count(),
        "votes_in_project": Vote.objects.filter(screening__project__slug=slug).count(),
        "settled_in_project": Screening.objects.filter(project__slug=slug).exclude(
            state="pending").count(),
        "votes_by_this_reviewer": Vote.objects.filter(reviewer=user).count(),
        "new_votes": Vote.objects.filter(reviewer=user).count() - before,
        "screen": screen, "vote": voted, "ahead": fetched_ahead,
    }
print("RESULT " + json.dumps(out))
"""

INTEGRITY = r"""
import json
from collections import Counter
from django.db import connection
from django.db.models import Count
from projects.models import AuditEvent, Project
from screening.models import Screening, StageSettings, Vote

result = {}
for slug in PROJECTS:
    project = Project.objects.get(slug=slug)
    out = result[slug] = {}
    needed = StageSettings.objects.filter(project=project, stage="title_abstract").values_list(
        "reviewers_needed", flat=True).first() or 2
    out["reviewers_needed"] = needed
    rows = list(Screening.objects.filter(project=project, stage="title_abstract").values_list(
        "id", "state", "votes_in", "settled_at"))
    votes = {}
    for screening_id, decision in Vote.objects.filter(
            screening__project=project, screening__stage="title_abstract").values_list(
            "screening_id", "decision"):
        votes.setdefault(screening_id, []).append(decision)
    over, mismatch, wrong_state, settled_at_wrong = [], [], [], []
    states = Counter()
    for sid, state, votes_in, settled_at in rows:
        decisions = votes.get(sid, [])
        states[state] += 1
        if votes_in > needed or len(decisions) > needed:
            over.append(sid)
        if votes_in != len(decisions):
            mismatch.append(sid)
        if len(decisions) < needed:
            expected = "pending"
        elif set(decisions) <= {"include", "maybe"}:  # maybe counts as include
            expected = "included"
        elif set(decisions) == {"exclude"}:
            expected = "excluded"
        else:
            expected = "conflict"
        if state != expected:
            wrong_state.append((sid, state, expected, decisions))
        if (settled_at is not None) != (state in ("included", "excluded")):
            settled_at_wrong.append(sid)
    out["screenings"] = len(rows)
    out["states"] = dict(states)
    out["votes"] = sum(len(v) for v in votes.values())
    out["votes_by_user"] = dict(Vote.objects.filter(screening__project=project).values_list(
        "reviewer__username").annotate(n=Count("id")).order_by())
    out["over_needed"] = len(over)
    out["votes_in_mismatch"] = len(mismatch)
    with connection.cursor() as c:
        c.execute(
            "SELECT count(*) FROM (SELECT v.screening_id, v.reviewer_id FROM screening_vote v "
            "JOIN screening_screening s ON s.id = v.screening_id WHERE s.project_id = %s "
            "GROUP BY 1, 2 HAVING count(*) > 1) d", [project.pk])
        out["double_votes"] = c.fetchone()[0]
        # Records are assigned before any vote: a vote by someone else is a violation.
        c.execute(
            "SELECT count(*) FROM screening_vote v JOIN screening_screening s ON s.id = "
            "v.screening_id WHERE s.project_id = %s AND EXISTS (SELECT 1 FROM "
            "screening_assignment a WHERE a.record_id = s.record_id AND a.stage = s.stage "
            "AND a.created_at < v.created_at) AND NOT EXISTS (SELECT 1 FROM "
            "screening_assignment a WHERE a.record_id = s.record_id AND a.stage = s.stage AND "
            "a.reviewer_id = v.reviewer_id)", [project.pk])
        out["votes_on_records_assigned_to_others"] = c.fetchone()[0]
    out["state_inconsistent"] = len(wrong_state)
    out["state_inconsistent_examples"] = wrong_state[:5]
    out["settled_at_inconsistent"] = len(settled_at_wrong)
    out["screening_without_votes"] = sum(1 for sid, *_ in rows if sid not in votes)
    events = AuditEvent.objects.filter(project=project)
    for action in ("vote.cast", "vote.change", "screening.settle", "screening.conflict"):
        out["audit_" + action.replace(".", "_")] = events.filter(action=action).count()
print("RESULT " + json.dumps(result))
"""

# The lead gives each pair of reviewers (rev01+rev02, rev03+rev04, ...) an equal share of
# the project's records with the app's own service (what the "assign" page does).
ASSIGN = r"""
import json
from accounts.models import User
from projects.models import Project
from screening.services import assign_batch
project = Project.objects.get(slug=SLUG)
lead = User.objects.get(username="lead")
done = {}
for i in range(1, N + 1, 2):
    pair = [User.objects.get(username=f"rev{j:02d}") for j in (i, i + 1)]
    done["+".join(u.username for u in pair)] = assign_batch(
        project, stage="title_abstract", reviewers=pair, count=COUNT, user=lead)
print("RESULT " + json.dumps(done))
"""

# Half of the big project settled in bulk (SQL, not the app): records 1..50,000 of the
# project get a Screening 'included' with two include votes by rev01 and rev02 where they
# have none yet, and every member's queue position moves past them. Only to measure the
# screen at a later point of a review.
# The order records are served in at the 100k project. Relevance: 5 records included and 5
# excluded by two reviewers (the least the model learns from), then one training now, timed;
# during the load a Celery worker retrains as the app does (debounced).
ORDER_SETUP = r"""
import json, time
from accounts.models import User
from projects.models import Project
from ranking import services as ranking
from references.models import Record
from screening import services
from screening.services import VoteSpec
out = {}
for slug in (SLUG, SMALL_SLUG, PAIRS_SLUG):
    project = Project.objects.get(slug=slug)
    settings = services.settings_for(project, "title_abstract")
    services.update_settings(settings, user=User.objects.get(username="lead"), order=ORDER)
if ORDER == "relevance":
    from django.conf import settings as conf
    out["cooldown"] = conf.RANKING_COOLDOWN  # the next training waits this x the last's length
    project = Project.objects.get(slug=SLUG)
    a, b = (User.objects.get(username=u) for u in ("rev01", "rev02"))
    first = list(Record.objects.filter(project=project).order_by("id")[:10])
    out["setup_votes"] = services.record_votes(project, stage="title_abstract", votes=[
        VoteSpec(record=r, reviewer=who, decision="include" if i < 5 else "exclude")
        for i, r in enumerate(first) for who in (a, b)])
    for label in ("first", "second"):  # the second reads the features from the cache
        started = time.monotonic()
        t = ranking.train(project, "title_abstract")
        out[label] = {"seconds": round(time.monotonic() - started, 2),
                      "features_s": round(t.seconds_features, 2),
                      "model_s": round(t.seconds_model, 2), "scored": t.scored,
                      "outcome": t.outcome}
print(json.dumps(out))
"""

TRAININGS = r"""
import json
from ranking.models import Training
rows = list(Training.objects.filter(project__slug=SLUG, started_at__gte=SINCE)
            .exclude(finished_at=None).order_by("started_at"))
spans = [(t.finished_at - t.started_at).total_seconds() for t in rows]
overlap = any(b.started_at < a.finished_at for a, b in zip(rows, rows[1:]))
print(json.dumps({"trainings": len(rows), "outcomes": sorted({t.outcome for t in rows}),
                  "mean_s": round(sum(spans) / len(spans), 2) if spans else None,
                  "max_s": round(max(spans), 2) if spans else None,
                  "max_labels": max((t.includes + t.excludes for t in rows), default=0),
                  "overlapping": overlap,
                  "spans": [[t.started_at.timestamp(), t.finished_at.timestamp()] for t in rows]}))
"""

BULK_SETTLE = r"""
import json
from django.db import connection, transaction
from accounts.models import User
from projects.models import Project
project = Project.objects.get(slug=SLUG)
a, b = (User.objects.get(username=u).pk for u in ("rev01", "rev02"))
with transaction.atomic(), connection.cursor() as c:
    c.execute('''
        WITH target AS (
            SELECT r.id FROM references_record r
            WHERE r.project_id = %s AND NOT EXISTS (
                SELECT 1 FROM screening_screening s WHERE s.record_id = r.id
                AND s.stage = 'title_abstract')
            ORDER BY r.id LIMIT %s)
        INSERT INTO screening_screening (project_id, record_id, stage, state, votes_in,
                                         reason_id, note, settled_at, settled_by_id)
        SELECT %s, id, 'title_abstract', 'included', 2, NULL, '', now(), NULL FROM target
        RETURNING id''', [project.pk, COUNT, project.pk])
    ids = [r[0] for r in c.fetchall()]
    c.execute('''
        INSERT INTO screening_vote (screening_id, reviewer_id, decision, reason_id, note,
                                    created_at, updated_at)
        SELECT s.id, u.id, 'include', NULL, '', now(), now()
        FROM screening_screening s CROSS JOIN (VALUES (%s), (%s)) AS u(id)
        WHERE s.id = ANY(%s)''', [a, b, ids])
    # Had the app's queue handed these records out, each member's queue position would be
    # past them (screening.queries, step 3): set it so, as the queue would have.
    c.execute('''
        INSERT INTO screening_queueposition (project_id, stage, reviewer_id, frontier)
        SELECT %s, 'title_abstract', m.user_id, (
            SELECT max(record_id) FROM screening_screening
            WHERE project_id = %s AND stage = 'title_abstract')
        FROM projects_membership m WHERE m.project_id = %s
        ON CONFLICT (project_id, stage, reviewer_id) DO UPDATE
        SET frontier = GREATEST(screening_queueposition.frontier, EXCLUDED.frontier)''',
              [project.pk, project.pk, project.pk])
with connection.cursor() as c:
    c.execute("ANALYZE screening_screening")
    c.execute("ANALYZE screening_vote")
print("RESULT " + json.dumps({"settled_by_sql": len(ids)}))
"""


def shell(env: dict, code: str, **values) -> dict | None:
    """Run `code` in `manage.py shell -c` with `values` defined first; parse its RESULT line."""
    prelude = "".join(f"{k} = {v!r}\n" for k, v in values.items())
    proc = subprocess.run([sys.executable, "manage.py", "shell", "-c", prelude + code],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"manage.py shell failed:\n{proc.stdout[-3000:]}\n"
                           f"{proc.stderr[-3000:]}")
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
        if line.startswith("{"):
            return json.loads(line)
    return None


def manage(env: dict, *args: str, timeout: int = 300) -> str:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n"
                           f"{proc.stderr[-3000:]}")
    print(f"  manage.py {args[0]}: {time.monotonic() - started:.1f} s", flush=True)
    return proc.stdout


def psql(url: str, sql: str) -> None:
    subprocess.run(["psql", url, "-qc", sql], check=True, timeout=300,
                   stdout=subprocess.DEVNULL)


def head_of_ris(path: Path, n: int, out: Path) -> None:
    """The first `n` records of a RIS file."""
    lines, count = [], 0
    with open(path, encoding="utf-8") as fin:
        for line in fin:
            lines.append(line)
            if line.startswith("ER  -"):
                count += 1
                if count == n:
                    break
    out.write_text("".join(lines), encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# gunicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, env: dict, workers: int, threads: int, log: Path):
        self.env, self.workers, self.threads, self.log = env, workers, threads, log
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def config(self) -> dict:
        return {"workers": self.workers, "threads": self.threads,
                "worker_class": "gthread" if self.threads > 1 else "sync"}

    def start(self) -> None:
        cmd = [str(ROOT / ".venv/bin/gunicorn"), "reviewapp.wsgi", "-b",
               f"127.0.0.1:{self.port}", "--workers", str(self.workers), "--threads",
               str(self.threads), "--timeout", "30", "--graceful-timeout", "5",
               "--backlog", "256"]
        self.logfile = open(self.log, "ab")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=self.logfile,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: see {self.log}\n"
                                   + self.log.read_text()[-3000:])
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/accounts/login/")
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer within 30 s")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=5)
        self.logfile.close()
        self.proc = None


# ---------------------------------------------------------------------------------------------
# The client: one Reviewer per thread, its own connection and cookies.


class Reviewer:
    def __init__(self, port: int, username: str, seed: int):
        self.port, self.username = port, username
        self.slug = SLUG
        self.origin = f"http://127.0.0.1:{port}"
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None
        self.rng = random.Random(seed)
        self.current: int | None = None  # the record on this reviewer's screen
        self.made = 0  # decisions so far

    def request(self, method: str, path: str, form: dict | None = None,
                headers: dict | None = None) -> tuple[int, str]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                       timeout=REQUEST_TIMEOUT)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                text = response.read().decode("utf-8", "replace")
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A kept-alive connection the server had closed: retry once on a new one.
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
            except Exception:
                self.conn.close()
                self.conn = None
                raise
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        return response.status, text

    def sign_in(self) -> None:
        status, page = self.request("GET", "/accounts/login/")
        token = CSRF_INPUT.search(page)
        if status != 200 or not token:
            raise RuntimeError(f"{self.username}: login page {status}")
        status, _ = self.request(
            "POST", "/accounts/login/",
            {"username": self.username, "password": PASSWORD,
             "csrfmiddlewaretoken": token.group(1)},
            {"Referer": self.origin + "/accounts/login/", "Origin": self.origin})
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"{self.username}: sign-in failed ({status})")

    def decision(self) -> str:
        x = self.rng.random()
        return "include" if x < 0.7 else "exclude" if x < 0.9 else "maybe"


class Tally:
    """What one thread saw in one phase (merged afterwards, no locking needed)."""

    def __init__(self):
        self.next_ms: list[float] = []
        self.vote_ms: list[float] = []
        self.screen_ms: list[float] = []
        self.series: list[tuple[float, float, float]] = []  # (t, next_ms, vote_ms)
        self.decisions = self.accepted = self.missed_ticks = 0
        self.rejected: dict[str, int] = {}
        self.errors: dict[str, int] = {}
        self.exhausted = False


def screen_path(slug: str) -> str:
    return f"/p/{slug}/screening/{STAGE}/screen/"


def vote_path(slug: str, record: int) -> str:
    return f"/p/{slug}/screening/{STAGE}/records/{record}/vote/"


def ahead_path(slug: str, current: int) -> str:
    return f"/p/{slug}/screening/{STAGE}/screen/ahead/?current={current}"


HX = {"HX-Request": "true"}


# A reviewer reloads the screen now and then (and loads it on their first decision).
RELOAD_EVERY = 20


def fetch_ahead(rev: Reviewer, tally: Tally, current: int) -> float | None:
    """GET the record after `current`, as the screen's panel does ("next"); its time."""
    started = time.perf_counter()
    try:
        status, _ = rev.request("GET", ahead_path(rev.slug, current), headers=HX)
    except Exception as exc:  # timeout, refused...
        tally.errors[f"next:{type(exc).__name__}"] = tally.errors.get(
            f"next:{type(exc).__name__}", 0) + 1
        return None
    if status != 200:
        tally.errors[f"next:{status}"] = tally.errors.get(f"next:{status}", 0) + 1
        return None
    ms = (time.perf_counter() - started) * 1000
    tally.next_ms.append(ms)
    return ms


def one_decision(rev: Reviewer, tally: Tally, phase_start: float) -> bool:
    """One decision as the browser makes it: POST the vote on the record on the screen; the
    answer shows the record fetched ahead, and its panel GETs the one after that ("next").
    The screen itself ("screen") is loaded on the first decision and reloaded every
    RELOAD_EVERY-th. False when nothing is left to screen."""
    if rev.current is None or rev.made % RELOAD_EVERY == 0:
        started = time.perf_counter()
        try:
            status, text = rev.request("GET", screen_path(rev.slug), headers=HX)
        except Exception as exc:
            tally.errors[f"screen:{type(exc).__name__}"] = tally.errors.get(
                f"screen:{type(exc).__name__}", 0) + 1
            return True
        found = RECORD.search(text)
        if status != 200 or not found:
            tally.errors[f"screen:{status}"] = tally.errors.get(f"screen:{status}", 0) + 1
            return True
        tally.screen_ms.append((time.perf_counter() - started) * 1000)
        if not found.group(1):
            tally.exhausted = True
            return False
        rev.current = int(found.group(1))
        fetch_ahead(rev, tally, rev.current)
    form = {"decision": rev.decision(), "csrfmiddlewaretoken": rev.cookies.get("csrftoken", "")}
    started, wall_started = time.perf_counter(), time.time()
    try:
        status, text = rev.request("POST", vote_path(rev.slug, rev.current), form,
                                   {**HX, "Referer": rev.origin + screen_path(rev.slug),
                                    "Origin": rev.origin})
    except Exception as exc:
        tally.errors[f"vote:{type(exc).__name__}"] = tally.errors.get(
            f"vote:{type(exc).__name__}", 0) + 1
        rev.current = None
        return True
    vote_ms = (time.perf_counter() - started) * 1000
    found = RECORD.search(text)
    if status != 200 or not found:
        tally.errors[f"vote:{status}"] = tally.errors.get(f"vote:{status}", 0) + 1
        rev.current = None
        return True
    tally.vote_ms.append(vote_ms)
    rev.made += 1
    tally.decisions += 1
    error = ERROR_ALERT.search(text)
    if error:  # e.g. "This record is settled already." (another pair was faster)
        message = error.group(1).strip()
        tally.rejected[message] = tally.rejected.get(message, 0) + 1
    else:
        tally.accepted += 1
    rev.current = int(found.group(1)) if found.group(1) else None
    next_ms = fetch_ahead(rev, tally, rev.current) if rev.current else None
    tally.series.append((time.monotonic() - phase_start, next_ms or 0.0, vote_ms, wall_started))
    return True


def run_phase(reviewers: list[Reviewer], seconds: float, paced: bool) -> dict:
    tallies = [Tally() for _ in reviewers]
    start = time.monotonic()
    deadline = start + seconds
    cpu0 = time.process_time()

    def work(i: int) -> None:
        rev, tally = reviewers[i], tallies[i]
        # Spread the reviewers over the second (a fixed, seeded phase each).
        tick = start + (i / len(reviewers) + rev.rng.random() / len(reviewers) if paced else 0)
        while True:
            if paced:
                delay = tick - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            if time.monotonic() >= deadline:
                return
            if not one_decision(rev, tally, start):
                return
            if paced:
                tick += 1.0
                now = time.monotonic()
                if tick < now:  # slower than one a second: no catching up in a burst
                    tally.missed_ticks += int((now - tick) // 1.0) + 1
                    tick = now

    threads = [threading.Thread(target=work, args=(i,), daemon=True)
               for i in range(len(reviewers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 3 * REQUEST_TIMEOUT + 5)
    elapsed = time.monotonic() - start
    return summarise(tallies, elapsed, len(reviewers), paced, seconds,
                     time.process_time() - cpu0)


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))  # nearest rank
    return round(ordered[k], 1)


def stats(values: list[float]) -> dict:
    return {"n": len(values), "p50": pct(values, 50), "p95": pct(values, 95),
            "p99": pct(values, 99), "max": round(max(values), 1) if values else None,
            "mean": round(sum(values) / len(values), 1) if values else None}


def summarise(tallies: list[Tally], elapsed: float, n_threads: int, paced: bool,
              seconds: float, client_cpu: float) -> dict:
    merged = Tally()
    for t in tallies:
        merged.next_ms += t.next_ms
        merged.vote_ms += t.vote_ms
        merged.screen_ms += t.screen_ms
        merged.series += t.series
        merged.decisions += t.decisions
        merged.accepted += t.accepted
        merged.missed_ticks += t.missed_ticks
        merged.exhausted |= t.exhausted
        for src, dst in ((t.rejected, merged.rejected), (t.errors, merged.errors)):
            for k, v in src.items():
                dst[k] = dst.get(k, 0) + v
    window = 20.0
    series = []
    for w in range(int(seconds // window) + 1):
        chunk = [s for s in merged.series if w * window <= s[0] < (w + 1) * window]
        if chunk:
            series.append({"from_s": w * window, "decisions": len(chunk),
                           "next_p50": pct([c[1] for c in chunk], 50),
                           "next_p95": pct([c[1] for c in chunk], 95),
                           "vote_p50": pct([c[2] for c in chunk], 50),
                           "vote_p95": pct([c[2] for c in chunk], 95)})
    both = merged.next_ms + merged.vote_ms + merged.screen_ms
    return {
        "threads": n_threads, "paced": paced, "seconds": round(elapsed, 1),
        "decisions": merged.decisions, "decisions_per_s": round(merged.decisions / elapsed, 1),
        "accepted_votes": merged.accepted,
        "accepted_votes_per_s": round(merged.accepted / elapsed, 1),
        "rejected_votes": merged.rejected, "errors": merged.errors,
        "missed_ticks": merged.missed_ticks if paced else None,
        "nothing_left": merged.exhausted,
        "next": stats(merged.next_ms), "vote": stats(merged.vote_ms),
        "screen": stats(merged.screen_ms),
        "all_requests_p95": pct(both, 95), "per_20s": series,
        "client_cpu_s": round(client_cpu, 1),
        "_series": merged.series,  # taken out by phase(): for split_by_training
    }


def split_by_training(series: list[tuple], spans: list[list[float]]) -> dict:
    """Latency of the decisions that overlapped a training (its wall-clock span, from the
    Training rows) and of the others: a decision runs from its vote's start to the end of
    the GET of the record after it."""
    def overlaps(start: float, end: float) -> bool:
        return any(a < end and start < b for a, b in spans)

    during, between = [], []
    for _t, next_ms, vote_ms, wall in series:
        (during if overlaps(wall, wall + (vote_ms + next_ms) / 1000) else between).append(
            (next_ms, vote_ms))
    return {kind: {"decisions": len(rows), "next": stats([r[0] for r in rows if r[0]]),
                   "vote": stats([r[1] for r in rows])}
            for kind, rows in (("while_training", during), ("between_trainings", between))}


def line(name: str, r: dict) -> str:
    return (f"{name}: {r['threads']} threads, {r['decisions']} decisions in {r['seconds']} s "
            f"= {r['decisions_per_s']}/s ({r['accepted_votes']} accepted, rejected "
            f"{sum(r['rejected_votes'].values())}, errors {sum(r['errors'].values())}); "
            f"next p50/p95/p99/max {r['next']['p50']}/{r['next']['p95']}/{r['next']['p99']}/"
            f"{r['next']['max']} ms; vote {r['vote']['p50']}/{r['vote']['p95']}/"
            f"{r['vote']['p99']}/{r['vote']['max']} ms; screen (loads and reloads) "
            f"{r['screen']['p50']}/{r['screen']['p95']}/{r['screen']['p99']}/"
            f"{r['screen']['max']} ms")


# ---------------------------------------------------------------------------------------------
# Where the CPU goes (2 cores shared by the client, gunicorn and PostgreSQL).

TICK = os.sysconf("SC_CLK_TCK")


def cpu_snapshot(gunicorn_pgid: int | None) -> dict:
    """CPU ticks so far of gunicorn (its process group), PostgreSQL (every postgres process,
    with the reaped children's time of each, so backends that exit count too: CONN_MAX_AGE
    recycles them), this client, and the whole machine."""
    groups = {"gunicorn": 0, "postgres": 0, "client": 0}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                data = f.read()
        except OSError:
            continue
        comm = data[data.index("(") + 1:data.rindex(")")]
        fields = data[data.rindex(")") + 2:].split()
        pgrp = int(fields[2])
        own, children = int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])
        if int(pid) == os.getpid():
            groups["client"] += own
        elif gunicorn_pgid is not None and pgrp == gunicorn_pgid:
            groups["gunicorn"] += own + children
        elif comm.startswith("postgres"):
            groups["postgres"] += own + children
    with open("/proc/stat") as f:
        total = [int(x) for x in f.readline().split()[1:]]
    groups["machine_busy"] = sum(total) - total[3] - total[4]  # minus idle and iowait
    return groups


def cpu_delta(before: dict, after: dict, seconds: float) -> dict:
    """Cores used by each group over the phase (2.0 = both cores busy); "other" is the rest
    of the machine (e.g. other people's test runs on a shared machine)."""
    out = {k: round((after[k] - before[k]) / TICK / seconds, 2) for k in before}
    out["other"] = round(out["machine_busy"] - out["gunicorn"] - out["postgres"]
                         - out["client"], 2)
    return out


class Analyzer(threading.Thread):
    """VACUUM ANALYZE of the screening tables every `every` seconds while the load runs: this
    server has autovacuum off, and a production one would refresh these statistics (the
    tables start empty and grow by thousands of rows a minute) and clear the dead rows that
    claims leave behind (each is inserted and deleted again within seconds)."""

    def __init__(self, url: str, every: float = 30.0):
        super().__init__(daemon=True)
        self.url, self.every, self.runs = url, every, 0
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.wait(self.every):
            try:
                subprocess.run(["psql", self.url, "-qc", "VACUUM ANALYZE screening_screening, "
                                "screening_vote, screening_claim, screening_queueposition, "
                                "screening_assignment, projects_auditevent"],
                               check=True, timeout=60, capture_output=True)
                self.runs += 1
            except Exception:  # noqa: BLE001
                pass

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=70)


# ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", default=str(ROOT / "bench/tmp/dedup_100k.ris"))
    parser.add_argument("--workers", type=int, default=3)  # as the Dockerfile's CMD
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--paced-seconds", type=float, default=120)
    parser.add_argument("--unpaced-seconds", type=float, default=60)
    parser.add_argument("--step-seconds", type=float, default=8,
                        help="each lower thread count (10, 5, 2, 1) while p95 > 250 ms")
    parser.add_argument("--compare", default="2x1,4x1",
                        help="other gunicorn WORKERSxTHREADS to run unpaced briefly ('' none)")
    parser.add_argument("--compare-seconds", type=float, default=8)
    parser.add_argument("--bulk-settle", type=int, default=50000,
                        help="records settled by SQL before measuring again (0: skip)")
    parser.add_argument("--pairs", action=argparse.BooleanOptionalAction, default=True,
                        help="also a second 100k project with every record assigned to pairs")
    parser.add_argument("--pairs-paced-seconds", type=float, default=120)
    parser.add_argument("--pairs-unpaced-seconds", type=float, default=10)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--order", choices=["import", "relevance"], default="import",
                        help="relevance: scores from a trained model, a Celery worker "
                             "retraining during the load; results go to "
                             "screening_load_relevance.json")
    args = parser.parse_args()
    path = Path(args.file)
    if not path.is_file():
        sys.exit(f"No {path}: run bench/make_100k.py first.")

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    name = urlparse(url).path.lstrip("/")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    tmp = Path(tempfile.mkdtemp(prefix="screening_load_"))
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "reviewapp.settings",
           "DEBUG": "0", "SECRET_KEY": "bench-screening-load-not-secret-" + "x" * 40,
           "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "0",
           "CELERY_BROKER_URL": "memory://" if args.order == "import"
           else os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
           "CELERY_QUEUE": f"bench-screening-{os.getpid()}",
           "RANKING_CACHE_DIR": str(tmp / "ranking"), "STATIC_ROOT": str(tmp / "static"),
           "MEDIA_ROOT": str(tmp / "media"), "LOG_LEVEL": "WARNING"}
    for key in ("TANDEM_DEMO", "SECURE_PROXY_SSL_HEADER", "EMAIL_URL"):
        env.pop(key, None)

    def pg_setting(setting: str) -> str:
        return subprocess.run(["psql", admin, "-Atc", f"SHOW {setting}"], capture_output=True,
                              text=True).stdout.strip()

    t0 = time.monotonic()
    result: dict = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "postgres": pg_setting("server_version"),
                    "postgres_settings": {k: pg_setting(k) for k in (
                        "shared_buffers", "work_mem", "autovacuum", "jit", "jit_above_cost",
                        "max_connections")}},
        "git": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True).stdout.strip(),
        "git_dirty_app": bool(subprocess.run(
            ["git", "status", "--porcelain", "--", "screening", "references", "projects",
             "accounts", "reviewapp", "templates"], cwd=ROOT, capture_output=True,
            text=True).stdout.strip()),
        "goal": GOALS, "reviewers": REVIEWERS,
        "client": "http.client + threading in one process, one keep-alive connection and "
                  f"cookie jar per reviewer, timeout {REQUEST_TIMEOUT:.0f} s per request; "
                  "a decision = POST vote (htmx; answers with the record fetched ahead) + GET next "
                  "(the record after it, as the panel fetches it), back to back; the screen "
                  "(GET, htmx fragment) on a reviewer's first decision and every 20th",
        "decisions": "seeded per reviewer: 70% include, 20% exclude, 10% maybe",
        "statistics": "this server runs with autovacuum off: the bench runs VACUUM ANALYZE of "
                      "the screening tables every 30 s during the load (as autovacuum would) "
                      "and ANALYZE before measuring",
    }
    server: Server | None = None
    worker: subprocess.Popen | None = None
    analyzer: Analyzer | None = None
    phases: dict = {}
    accepted: dict[str, int] = {}  # accepted vote requests over HTTP, per project
    try:
        # 1. Database, users, projects, records.
        print("setup", flush=True)
        psql(admin, f'DROP DATABASE IF EXISTS "{name}"')
        psql(admin, f'CREATE DATABASE "{name}"')
        manage(env, "migrate", "-v0")
        manage(env, "collectstatic", "--noinput", "-v0")
        ids = shell(env, SETUP, PASSWORD=PASSWORD, N=REVIEWERS, SLUG=SLUG,
                    SMALL_SLUG=SMALL_SLUG, PAIRS_SLUG=PAIRS_SLUG)
        imported = manage(env, "import_references", SLUG, str(path), "--source", "Bench RIS")
        small = tmp / "small.ris"
        head_of_ris(path, 100, small)
        manage(env, "import_references", SMALL_SLUG, str(small), "--source", "Bench RIS")
        result["order"] = {"order": args.order, **(shell(
            env, ORDER_SETUP, SLUG=SLUG, SMALL_SLUG=SMALL_SLUG, PAIRS_SLUG=PAIRS_SLUG,
            ORDER=args.order) or {})}
        # rev01 and rev02's votes of the setup count as theirs (integrity check).
        accepted[SLUG] = result["order"].get("setup_votes", 0)
        psql(url, "VACUUM ANALYZE")
        result["setup"] = {"seconds": round(time.monotonic() - t0, 1),
                           "import": imported.strip().splitlines()[0], "users": ids,
                           "deduplicated": False, "after_import": "VACUUM ANALYZE"}

        # 2. Queries per request before the load: the lead casts first votes, the probe
        # second votes on the same records; at the small and at the 100k project.
        print("queries per request (before the load)", flush=True)
        result["queries_before"] = shell(env, MEASURE, JOBS=[
            (SMALL_SLUG, "lead", 10, 5), (SMALL_SLUG, "probe", 5, 5),
            (SLUG, "lead", 100, 5), (SLUG, "probe", 95, 5)])

        # 3. Load.
        if args.order == "relevance":
            worker = subprocess.Popen(
                [str(ROOT / ".venv/bin/celery"), "-A", "reviewapp", "worker", "--pool=solo",
                 "--loglevel=WARNING", "--without-gossip", "--without-mingle",
                 "--without-heartbeat", "-n", f"bench-{os.getpid()}@%h"],
                cwd=ROOT, env=env, stdout=open(tmp / "worker.log", "ab"),
                stderr=subprocess.STDOUT, start_new_session=True)
            load_started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        server = Server(env, args.workers, args.threads, tmp / "gunicorn.log")
        server.start()
        result["gunicorn"] = {**server.config, "timeout": 30, "conn_max_age": 60,
                              "debug": False, "static": "whitenoise manifest (collectstatic)"}
        print(f"gunicorn {server.config} on port {server.port}", flush=True)
        reviewers = [Reviewer(server.port, f"rev{i:02d}", 1000 + i)
                     for i in range(1, REVIEWERS + 1)]
        started = time.monotonic()
        errors: list[str] = []

        def sign_in(r: Reviewer) -> None:
            try:
                r.sign_in()
            except Exception as exc:  # noqa: BLE001
                errors.append(str(exc))

        threads = [threading.Thread(target=sign_in, args=(r,)) for r in reviewers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        if errors:
            raise RuntimeError(f"sign-in failed: {errors[:3]}")
        result["sign_in_seconds"] = round(time.monotonic() - started, 1)
        analyzer = Analyzer(url)
        analyzer.start()

        series: dict[str, list[tuple]] = {}

        def phase(label: str, revs: list[Reviewer], seconds: float, paced: bool) -> dict:
            pgid = server.proc.pid if server and server.proc else None
            before = cpu_snapshot(pgid)
            out = run_phase(revs, seconds, paced)
            series[label] = out.pop("_series")
            out["cores_used"] = cpu_delta(before, cpu_snapshot(pgid), out["seconds"])
            out["project"] = revs[0].slug
            accepted[revs[0].slug] = accepted.get(revs[0].slug, 0) + out["accepted_votes"]
            print(line(label, out), f"cores {out['cores_used']}", flush=True)
            return out

        phases["warmup"] = phase("warm-up", reviewers, 5, paced=False)
        phases["paced"] = phase("paced", reviewers, args.paced_seconds, paced=True)
        phases["unpaced"] = phase("unpaced", reviewers, args.unpaced_seconds, paced=False)
        steps = []
        if phases["unpaced"]["all_requests_p95"] > GOALS["unpaced_p95_ms"]:
            for n in (10, 5, 2, 1):
                steps.append(phase(f"unpaced {n}", reviewers[:n], args.step_seconds, False))
                if steps[-1]["all_requests_p95"] <= GOALS["unpaced_p95_ms"]:
                    break
        phases["unpaced_fewer_threads"] = steps
        ok = [p for p in [phases["unpaced"], *steps]
              if p["all_requests_p95"] <= GOALS["unpaced_p95_ms"]]
        best = max(ok, key=lambda p: p["decisions_per_s"]) if ok else None
        result["saturation"] = {
            "decisions_per_s_with_p95_le_250ms": best["decisions_per_s"] if best else None,
            "accepted_votes_per_s_with_p95_le_250ms": best["accepted_votes_per_s"]
            if best else None,
            "threads": best["threads"] if best else None,
            "decisions_per_s_at_20_threads": phases["unpaced"]["decisions_per_s"],
            "accepted_votes_per_s_at_20_threads": phases["unpaced"]["accepted_votes_per_s"],
            "p95_ms_at_20_threads": phases["unpaced"]["all_requests_p95"],
            "note": "p95 over both request kinds; None: p95 > 250 ms even at 1 thread",
        }
        server.stop()
        server = None

        def restart(workers: int, threads_n: int, log: str) -> Server:
            other = Server(env, workers, threads_n, tmp / log)
            other.start()
            for r in reviewers:
                if r.conn is not None:
                    r.conn.close()
                r.port, r.origin, r.conn = other.port, f"http://127.0.0.1:{other.port}", None
            return other

        # Other gunicorn configurations, briefly, unpaced at 20 threads (sessions persist).
        comparisons = []
        for spec in [x for x in args.compare.split(",") if x.strip()]:
            workers, threads_n = (int(x) for x in spec.lower().split("x"))
            server = restart(workers, threads_n, f"gunicorn-{spec}.log")
            run = phase(f"unpaced {spec}", reviewers, args.compare_seconds, False)
            comparisons.append({"gunicorn": server.config, **run})
            server.stop()
            server = None
        phases["gunicorn_comparison"] = comparisons
        analyzer.stop()
        result["analyze_runs_during_load"] = analyzer.runs
        analyzer = None
        result["phases"] = phases
        if worker is not None:
            result["trainings_during_load"] = shell(env, TRAININGS, SLUG=SLUG,
                                                    SINCE=load_started)
            spans = result["trainings_during_load"].pop("spans")
            result["trainings_during_load"]["paced_split"] = split_by_training(
                series["paced"], spans)
            print(f"trainings during the load: {result['trainings_during_load']}", flush=True)
            worker.terminate()
            worker.wait(timeout=30)
            worker = None

        # 4. Queries per request after the load, integrity.
        print("queries per request (after the load)", flush=True)
        result["queries_after"] = shell(env, MEASURE, JOBS=[(SLUG, "lead", 0, 5),
                                                            (SLUG, "probe", 0, 5)])
        measured = [*result["queries_before"].values(), *result["queries_after"].values()]
        print("integrity", flush=True)
        result["integrity"] = integrity(env, [SLUG, SMALL_SLUG], accepted, measured)

        # 5. Later in the review: half of the project settled (by SQL), measured again.
        if args.bulk_settle:
            print(f"bulk-settling {args.bulk_settle} records, measuring again", flush=True)
            settled = shell(env, BULK_SETTLE, SLUG=SLUG, COUNT=args.bulk_settle)
            result["queries_half_done"] = {
                "settled_by_sql": settled["settled_by_sql"],
                **shell(env, MEASURE, JOBS=[(SLUG, "probe", 0, 5)])}

        # 6. A second 100k project where the lead assigned every record to a pair first.
        if args.pairs:
            print("pairs project", flush=True)
            manage(env, "import_references", PAIRS_SLUG, str(path), "--source", "Bench RIS")
            result["pairs_assigned"] = shell(env, ASSIGN, SLUG=PAIRS_SLUG, N=REVIEWERS,
                                             COUNT=200000 // REVIEWERS)
            psql(url, "VACUUM ANALYZE")
            for r in reviewers:
                r.slug, r.current, r.made = PAIRS_SLUG, None, 0
            server = restart(args.workers, args.threads, "gunicorn-pairs.log")
            analyzer = Analyzer(url)
            analyzer.start()
            phases["pairs_warmup"] = phase("pairs warm-up", reviewers, 3, False)
            phases["pairs_paced"] = phase("pairs paced", reviewers, args.pairs_paced_seconds,
                                          True)
            phases["pairs_unpaced"] = phase("pairs unpaced", reviewers,
                                            args.pairs_unpaced_seconds, False)
            server.stop()
            server = None
            analyzer.stop()
            analyzer = None
            print("queries per request (pairs project)", flush=True)
            result["queries_pairs"] = shell(env, MEASURE, JOBS=[(PAIRS_SLUG, "rev05", 0, 3)])
            result["integrity_pairs"] = integrity(env, [PAIRS_SLUG], accepted,
                                                  list(result["queries_pairs"].values()))
    finally:
        if worker is not None:
            worker.kill()
        if analyzer is not None:
            analyzer.stop()
        if server is not None:
            server.stop()
        if not args.keep_db:
            try:
                psql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except Exception as exc:  # noqa: BLE001
                print(f"could not drop {name}: {exc}", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)

    result["total_seconds"] = round(time.monotonic() - t0, 1)
    result["measured_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    out = ROOT / ("bench/results/screening_load.json" if args.order == "import"
                  else "bench/results/screening_load_relevance.json")
    out.write_text(json.dumps(result, indent=2) + "\n")
    print_summary(result, out)


def integrity(env: dict, slugs: list[str], accepted: dict[str, int],
              measured: list[dict]) -> dict:
    """The INTEGRITY script per project, and its checks against what the clients saw:
    accepted vote requests over HTTP (reviewers rev01..) and votes cast by the test client
    while measuring queries (lead, probe)."""
    found = shell(env, INTEGRITY, PROJECTS=slugs)
    for slug, out in found.items():
        mine = [m for m in measured if m["project"] == slug]
        test_client = sum(m["new_votes"] for m in mine)
        http_votes = sum(n for u, n in out["votes_by_user"].items() if u.startswith("rev")) \
            - sum(m["new_votes"] for m in mine if m["reviewer"].startswith("rev"))
        out["accepted_vote_requests"] = accepted.get(slug, 0)
        out["votes_by_reviewers_over_http"] = http_votes
        out["votes_by_test_client"] = test_client
        out["checks"] = checks = {
            "no_screening_over_needed": out["over_needed"] == 0,
            "votes_in_matches_votes": out["votes_in_mismatch"] == 0,
            "no_double_vote": out["double_votes"] == 0,
            "states_follow_votes": out["state_inconsistent"] == 0
            and out["settled_at_inconsistent"] == 0,
            "votes_equal_accepted_requests": http_votes == accepted.get(slug, 0),
            "all_votes_accounted": out["votes"] == http_votes + test_client,
            "one_audit_event_per_vote": out["audit_vote_cast"] == out["votes"]
            and out["audit_vote_change"] == 0,
            "assignments_respected": out["votes_on_records_assigned_to_others"] == 0,
        }
        out["ok"] = all(checks.values())
    return found


def print_summary(result: dict, path: Path) -> None:
    print()
    print(f"machine: {result['machine']['cpus']} cpus; gunicorn {result['gunicorn']}")
    goal = GOALS["paced"]
    for label in ("paced", "pairs_paced"):
        if label not in result["phases"]:
            continue
        for kind in ("next", "vote", "screen"):
            s = result["phases"][label][kind]
            verdict = "meets" if s["p95"] is not None and s["p95"] <= goal["p95_ms"] \
                and s["p99"] <= goal["p99_ms"] else "MISSES"
            print(f"{label} {kind}: p50 {s['p50']} p95 {s['p95']} p99 {s['p99']} max {s['max']}"
                  f" ms ({verdict} p95 <= {goal['p95_ms']}, p99 <= {goal['p99_ms']})")
    print(f"saturation: {result['saturation']}")
    for label in ("queries_before", "queries_after", "queries_half_done", "queries_pairs"):
        for key, m in (result.get(label) or {}).items():
            if isinstance(m, dict):
                vote = m["vote"] or {}
                print(f"{label} {key}: screen {m['screen']['queries']} queries "
                      f"{m['screen']['ms_median']} ms; vote {vote.get('queries_by_outcome')} "
                      f"{vote.get('ms_median')} ms; ahead {(m.get('ahead') or {}).get('queries')} "
                      f"{(m.get('ahead') or {}).get('ms_median')} ms "
                      f"(project: {m['records']} records, "
                      f"{m['votes_in_project']} votes, {m['settled_in_project']} settled)")
    for label in ("integrity", "integrity_pairs"):
        for slug, out in (result.get(label) or {}).items():
            bad = [k for k, v in out["checks"].items() if not v]
            print(f"{label} {slug}: {'ok' if out['ok'] else 'FAILED ' + ', '.join(bad)} "
                  f"({out['votes']} votes, {out['screenings']} screenings, {out['states']})")
    print(f"total {result['total_seconds']} s; wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
