"""The fixed cast and the service checks every test shares.

Cast of a project: `lead`, two reviewers `ada` and `ben`, a third reviewer `cy` (role
reviewer, settles conflicts), a `viewer`, and an `outsider` who is in no project.
"""

import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from projects.models import Role
from tests import settings as test_settings
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_AVAILABLE = Path(CHROMIUM).exists()
# Third-party labelled data beside the checkout (../shared/benchdata), used by parser tests
# of real exports; the project itself never needs it.
BENCHDATA = Path(os.environ.get("BENCHDATA_DIR")
                 or Path(__file__).resolve().parent.parent.parent / "shared" / "benchdata")

MISSING = {
    "postgres": None if test_settings.POSTGRES_AVAILABLE else
    f"PostgreSQL does not answer at {test_settings.DATABASE_URL}",
    "redis": None if test_settings.REDIS_AVAILABLE else
    f"Redis does not answer at {test_settings.REDIS_URL}",
    "browser": None if CHROMIUM_AVAILABLE else f"{CHROMIUM} is not installed",
    "benchdata": None if BENCHDATA.is_dir() else f"no benchmark data at {BENCHDATA}",
}


def pytest_report_header(config):
    missing = [reason for reason in MISSING.values() if reason]
    if not missing:
        return "services: PostgreSQL, Redis, chromium and benchmark data are here: all tests run"
    return ("services: " + "; ".join(missing) + " -> running on "
            + ("SQLite" if MISSING["postgres"] else "PostgreSQL")
            + ", skipping only the tests that need what is missing")


def pytest_configure(config):
    missing = [reason for reason in MISSING.values() if reason]
    if REQUIRE_SERVICES and missing:
        raise pytest.UsageError("REQUIRE_SERVICES=1 but " + "; ".join(missing))


def pytest_collection_modifyitems(config, items):
    for item in items:
        for marker, reason in MISSING.items():
            if reason and item.get_closest_marker(marker):
                item.add_marker(pytest.mark.skip(reason=reason))


_skipped: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if REQUIRE_SERVICES and _skipped and exitstatus == 0:
        print(f"\nREQUIRE_SERVICES=1: {len(_skipped)} test(s) skipped, which fails the run: "
              + ", ".join(_skipped[:5]))
        session.exitstatus = 1


@dataclass
class Cast:
    project: object
    lead: object
    ada: object
    ben: object
    cy: object
    viewer: object
    outsider: object

    def user(self, role_name: str):
        return getattr(self, role_name)


@pytest.fixture(autouse=True)
def _catalogue_rows(request):
    """A transactional test (live server, Celery worker) ends by flushing every table, which
    takes the frameworks catalogue the data migration wrote with it: put it back first."""
    if "transactional_db" not in request.fixturenames and "live_server" not in request.fixturenames:
        return
    request.getfixturevalue("transactional_db")
    from frameworks import catalogue
    from frameworks.models import Category, Framework

    catalogue.install(Framework, Category)


@pytest.fixture
def cast(db) -> Cast:
    lead = UserFactory(username="lead", display_name="Lena Lead")
    project = ProjectFactory(name="Trainee-led IKT scoping review", slug="ikt", created_by=lead)
    members = {"lead": (lead, Role.LEAD)}
    for name, display, role in [("ada", "Ada", Role.REVIEWER), ("ben", "Ben", Role.REVIEWER),
                                ("cy", "Cy", Role.REVIEWER), ("viewer", "Vic Viewer", Role.VIEWER)]:
        members[name] = (UserFactory(username=name, display_name=display), role)
    for user, role in members.values():
        MembershipFactory(project=project, user=user, role=role)
    outsider = UserFactory(username="outsider", display_name="Otto Outsider")
    return Cast(project=project, outsider=outsider,
                **{name: user for name, (user, _role) in members.items()})


@pytest.fixture
def client_for(client):
    """client_for(user) -> a test client signed in as that user (None: anonymous)."""

    def sign_in(user):
        client.logout()
        if user is not None:
            client.force_login(user)
        return client

    return sign_in


def _wait_for_line(proc: subprocess.Popen, needle: str, timeout: float) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        lines.append(line)
        if needle in line:
            return lines
    proc.kill()
    raise RuntimeError("The Celery worker did not start:\n" + "".join(lines[-40:]))


def start_celery_worker(name: str, *, queue: str | None = None) -> subprocess.Popen:
    """Start a real Celery worker in its own process, on the test database and this run's Redis
    (on `queue`, by default the run's queue), and return it once it is ready to take tasks.

    One process (`--pool=solo`) runs the tasks itself, so SIGKILL to it kills the task too.
    The caller stops it with `stop_celery_worker`, or kills it. Tasks it runs need committed
    data (`transactional_db` or `live_server`).
    """
    db = settings.DATABASES["default"]
    database_url = (f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:"
                    f"{db['PORT'] or 5432}/{db['NAME']}")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "reviewapp.settings",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_QUEUE": queue or settings.CELERY_TASK_DEFAULT_QUEUE,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "DEBUG": "1",
    }
    celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
    proc = subprocess.Popen(
        [celery, "-A", "reviewapp", "worker", "--pool=solo", "--loglevel=INFO",
         "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-n", f"{name}-{os.getpid()}@%h"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        cwd=settings.BASE_DIR,
    )
    _wait_for_line(proc, "ready.", timeout=60)
    # Keep reading its output so a full pipe never blocks the worker.
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    return proc


def stop_celery_worker(proc: subprocess.Popen) -> None:
    """A warm shutdown (the task in hand finishes), killed if it takes longer than 15 s."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    """A real Celery worker in its own process, on this run's Redis queue and test database."""
    proc = start_celery_worker("test")
    yield proc
    stop_celery_worker(proc)
