"""The deployment files: Dockerfile, .dockerignore, docker-compose.yml, and the settings they feed.

No Docker engine is needed: the compose file and the Dockerfile are parsed, and the Django
steps the image runs (`collectstatic`, `check --deploy`) run here in subprocesses with the
environment the image and compose give them.
"""

import ast
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_FILE = ROOT / "reviewapp" / "settings.py"
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENTRYPOINT_WEB = ROOT / "docker" / "entrypoint-web.sh"

ENV_HELPERS = {"env", "env_bool", "env_list"}
ENVIRON_CALLS = {"os.environ.get", "os.getenv", "os.environ.setdefault", "os.environ.pop"}
APP_SERVICES = ("web", "worker", "ranking", "beat")

# What an admin's .env holds on a real server.
SAMPLE_DOTENV = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "POSTGRES_PASSWORD": secrets.token_hex(16),
    "ALLOWED_HOSTS": "tandem.example.org",
    "SITE_URL": "https://tandem.example.org",
    "EMAIL_URL": "submission://tandem%40example.org:mail-password@smtp.example.org:587",
    "DEFAULT_FROM_EMAIL": "Tandem <tandem@example.org>",
}


# --- reading the files -------------------------------------------------------------------


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def settings_env_names() -> set[str]:
    """Names of the environment variables reviewapp/settings.py reads, from its syntax tree."""
    tree = ast.parse(SETTINGS_FILE.read_text(), filename=str(SETTINGS_FILE))
    names = set()
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            if (isinstance(func, ast.Name) and func.id in ENV_HELPERS) or (
                _dotted(func) in ENVIRON_CALLS
            ):
                key = node.args[0]
        elif isinstance(node, ast.Subscript) and _dotted(node.value) == "os.environ":
            key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            names.add(key.value)
    return names


def load_compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())  # safe_load resolves anchors and `<<`


def environment_of(service: dict) -> dict[str, str | None]:
    """A service's `environment`, given as a mapping or as a list of NAME=value / NAME."""
    environment = service.get("environment") or {}
    if isinstance(environment, dict):
        return {name: None if value is None else str(value) for name, value in environment.items()}
    result = {}
    for item in environment:
        name, sep, value = item.partition("=")
        result[name] = value if sep else None
    return result


class MissingVariable(Exception):
    pass


_INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


def interpolate(value: str, dotenv: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}."""

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("braced") or match.group("bare")
        op, arg = match.group("op"), match.group("arg")
        present = name in dotenv
        value = dotenv.get(name, "")
        empty = not value
        if op in (":-", ":?"):
            missing = empty
        elif op in ("-", "?"):
            missing = not present
        else:
            return value
        if not missing:
            return value
        if op.endswith("?"):
            raise MissingVariable(f"{name}: {arg}")
        return arg

    return _INTERPOLATION.sub(replace, value)


def resolved_environment(service_name: str, dotenv: dict[str, str]) -> dict[str, str]:
    service = load_compose()["services"][service_name]
    return {
        name: interpolate(value, dotenv) if value is not None else dotenv.get(name, "")
        for name, value in environment_of(service).items()
    }


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        keyword, _, arguments = current.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        current = ""
    return instructions


def dockerfile_values(keyword: str) -> list[str]:
    return [args for kw, args in dockerfile_instructions() if kw == keyword]


def dockerfile_cmd() -> list[str]:
    (cmd,) = dockerfile_values("CMD")
    return json.loads(cmd)


def fresh_python(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """Python in a fresh interpreter at the project's root, with only `env` for the variables
    the settings read."""
    base = {k: v for k, v in os.environ.items() if k not in settings_env_names()}
    base.pop("DJANGO_SETTINGS_MODULE", None)  # this test run uses tests.settings
    base.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests, never deployed
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120,
    )


def run_manage(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """manage.py in a fresh interpreter, with only `env` for the variables the settings read."""
    return fresh_python(["manage.py", *args], env)


def settings_probe(service_name: str, code: str, tmp_path: Path) -> str:
    """The last line `code` prints, run after django.setup() with the environment compose
    gives `service_name` (the database in `tmp_path`)."""
    env = resolved_environment(service_name, SAMPLE_DOTENV)
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'tandem.sqlite3'}"
    env["DJANGO_SETTINGS_MODULE"] = "reviewapp.settings"
    result = fresh_python(["-c", "import django; django.setup(); " + code], env)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[-1]


# --- the settings' variables ---------------------------------------------------------------


def test_settings_parser_finds_the_variables_known_to_be_read():
    source = SETTINGS_FILE.read_text()
    defined = {node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)}
    assert ENV_HELPERS <= defined, "the settings' env helpers were renamed: update ENV_HELPERS"

    names = settings_env_names()

    assert {
        "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "SITE_URL",
        "DATABASE_URL", "CELERY_BROKER_URL", "EMAIL_URL", "DEFAULT_FROM_EMAIL", "MEDIA_ROOT",
        "STATIC_ROOT", "ALLOW_SIGNUP", "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER",
        "SECURE_HSTS_SECONDS", "JOB_TIME_LIMIT", "JOB_STALE_AFTER", "JOB_QUEUED_STALE_AFTER",
        "LOG_LEVEL",
    } <= names
    # The helpers' own parameter is not a variable name.
    assert "name" not in names


# --- docker-compose.yml --------------------------------------------------------------------


def test_compose_has_exactly_the_six_services_and_no_version_key():
    compose = load_compose()

    assert "version" not in compose
    assert compose["name"] == "tandem"  # volumes are tandem_postgres-data, tandem_media...
    assert set(compose["services"]) == {"db", "redis", "web", "worker", "ranking", "beat"}
    assert compose["services"]["db"]["image"] == "postgres:17"
    assert compose["services"]["redis"]["image"] == "redis:7"


def test_environment_reads_list_and_mapping_forms():
    assert environment_of({"environment": ["A=1", "B", "C=x=y"]}) == {
        "A": "1", "B": None, "C": "x=y"
    }
    assert environment_of({"environment": {"A": 1, "B": None}}) == {"A": "1", "B": None}


def test_web_workers_and_beat_share_image_and_environment():
    services = load_compose()["services"]
    web, *others = (services[name] for name in APP_SERVICES)

    for other in others:
        assert web["build"] == other["build"] == "."
        assert web["image"] == other["image"] == "tandem:latest"
        assert environment_of(web) == environment_of(other)


@pytest.mark.parametrize("service_name", APP_SERVICES)
def test_compose_passes_only_variables_the_settings_read(service_name):
    service = load_compose()["services"][service_name]
    passed = set(environment_of(service))

    assert passed - settings_env_names() == set()
    assert {"SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "MEDIA_ROOT"} <= passed
    assert "env_file" not in service  # only the listed variables reach the container


def test_secret_key_and_postgres_password_are_required_from_dotenv():
    text = COMPOSE_FILE.read_text()
    required = {m.group("braced") for m in _INTERPOLATION.finditer(text) if m.group("op") == ":?"}
    assert required == {"SECRET_KEY", "POSTGRES_PASSWORD"}

    with pytest.raises(MissingVariable, match="SECRET_KEY: set SECRET_KEY in .env"):
        resolved_environment("web", {"POSTGRES_PASSWORD": "x"})
    with pytest.raises(MissingVariable, match="POSTGRES_PASSWORD"):
        resolved_environment("worker", {"SECRET_KEY": "x"})


def test_defaults_when_dotenv_holds_only_the_required_values():
    env = resolved_environment("web", {"SECRET_KEY": "k", "POSTGRES_PASSWORD": "p"})

    assert env["DEBUG"] == "0"
    assert env["SECRET_KEY"] == "k"
    assert env["ALLOWED_HOSTS"] == "localhost"
    assert env["SECURE_PROXY_SSL_HEADER"] == "1"  # behind the TLS-terminating proxy
    assert env["SECURE_SSL_REDIRECT"] == "1"
    assert env["EMAIL_URL"] == "console:"
    assert env["DEFAULT_FROM_EMAIL"] == "Tandem <tandem@localhost>"
    assert env["MEDIA_ROOT"] == "/data/media"
    assert env["SECURE_HSTS_SECONDS"] == "31536000"
    assert env["JOB_TIME_LIMIT"] == "3600"
    assert env["JOB_STALE_AFTER"] == "600"
    assert env["JOB_QUEUED_STALE_AFTER"] == "3600"


def test_database_url_points_at_db_and_broker_at_redis():
    services = load_compose()["services"]
    db_env = environment_of(services["db"])
    for service_name in APP_SERVICES:
        env = resolved_environment(service_name, SAMPLE_DOTENV)

        database = dj_database_url.parse(env["DATABASE_URL"])
        assert database["ENGINE"] == "django.db.backends.postgresql"
        assert (database["HOST"], database["PORT"]) == ("db", 5432)
        assert database["USER"] == db_env["POSTGRES_USER"] == "tandem"
        assert database["NAME"] == db_env["POSTGRES_DB"] == "tandem"
        assert database["PASSWORD"] == SAMPLE_DOTENV["POSTGRES_PASSWORD"]
        assert interpolate(db_env["POSTGRES_PASSWORD"], SAMPLE_DOTENV) == database["PASSWORD"]

        broker = urlparse(env["CELERY_BROKER_URL"])
        assert (broker.scheme, broker.hostname, broker.port) == ("redis", "redis", 6379)


def test_db_and_redis_are_healthchecked_and_awaited():
    services = load_compose()["services"]

    assert services["db"]["healthcheck"]["test"] == [
        "CMD-SHELL", "pg_isready -U tandem -d tandem"
    ]
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert services["db"]["volumes"] == ["postgres-data:/var/lib/postgresql/data"]
    assert "postgres-data" in load_compose()["volumes"]
    for service_name in APP_SERVICES:
        assert services[service_name]["depends_on"] == {
            "db": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }


def test_web_and_worker_share_the_media_volume_at_media_root():
    compose = load_compose()
    for service_name in APP_SERVICES:
        service = compose["services"][service_name]
        assert environment_of(service)["MEDIA_ROOT"] == "/data/media"
        assert service["volumes"] == ["media:/data/media"]
    assert "media" in compose["volumes"]
    assert any("MEDIA_ROOT=/data/media" in env.split() for env in dockerfile_values("ENV"))


def test_web_migrates_then_runs_the_dockerfile_gunicorn_command():
    web = load_compose()["services"]["web"]

    assert dockerfile_values("WORKDIR") == ["/app"]
    assert web["entrypoint"] == ["/app/docker/entrypoint-web.sh"]
    assert web["command"] == dockerfile_cmd()
    assert web["ports"] == ["${TANDEM_LISTEN:-127.0.0.1:8000}:8000"]
    script = [line for line in ENTRYPOINT_WEB.read_text().splitlines()
              if line and not line.startswith("#")]
    assert script == ["set -eu", "python manage.py migrate --noinput", 'exec "$@"']


def test_worker_runs_celery():
    worker = load_compose()["services"]["worker"]

    assert worker["command"] == ["celery", "-A", "reviewapp", "worker", "--loglevel=INFO"]
    assert "ports" not in worker


def test_the_ranking_worker_alone_takes_the_queue_the_settings_send_trainings_to(tmp_path):
    ranking = load_compose()["services"]["ranking"]
    probe = ("import json; from django.conf import settings; "
             "print(json.dumps([settings.CELERY_TASK_DEFAULT_QUEUE, settings.RANKING_QUEUE]))")

    default, trainings = json.loads(settings_probe("ranking", probe, tmp_path))
    assert (default, trainings) == ("tandem", "tandem-ranking")
    assert ranking["command"] == ["celery", "-A", "reviewapp", "worker", "--loglevel=INFO",
                                  "-Q", trainings, "--concurrency=1", "-n", "ranking@%h"]
    assert "-Q" not in load_compose()["services"]["worker"]["command"]  # `worker`: the default
    assert ranking["stop_grace_period"] == "60s"
    assert "ports" not in ranking


def test_beat_runs_celery_beat_once_with_its_schedule_file_in_var():
    beat = load_compose()["services"]["beat"]

    assert beat["command"] == ["celery", "-A", "reviewapp", "beat", "--loglevel=INFO"]
    assert "ports" not in beat
    assert "deploy" not in beat and "scale" not in beat  # two beats would sweep twice as often
    # The schedule file goes to BASE_DIR/var (CELERY_BEAT_SCHEDULE_FILENAME): /app/var in the
    # image, which the image makes and gives to the unprivileged user beat runs as.
    assert dockerfile_values("WORKDIR") == ["/app"]
    (build_step,) = [run for run in dockerfile_values("RUN") if "collectstatic" in run]
    assert "mkdir -p /data/media /app/var" in build_step
    assert "chown -R tandem:tandem /data /app/var" in build_step


def test_beat_schedules_registered_tasks_with_the_environment_compose_gives_it(tmp_path):
    probe = (
        "import json; "
        "from reviewapp.celery import app; app.loader.import_default_modules(); "
        "print(json.dumps({'file': app.conf.beat_schedule_filename, "
        "'tasks': {k: [v['task'], v['task'] in app.tasks, v['schedule']] "
        "for k, v in app.conf.beat_schedule.items()}, "
        "'stale': [django.conf.settings.JOB_STALE_AFTER, "
        "django.conf.settings.JOB_QUEUED_STALE_AFTER]}))"
    )

    assert json.loads(settings_probe("beat", probe, tmp_path)) == {
        "file": str(ROOT / "var" / "celerybeat-schedule"),
        "tasks": {"sweep-stale-jobs": ["projects.sweep_jobs", True, 60],
                  "purge-expired-job-files": ["projects.purge_job_files", True, 3600]},
        "stale": [600, 3600],
    }


# --- manage.py check --deploy ----------------------------------------------------------------


def deploy_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "tandem.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'tandem.sqlite3'}",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "EMAIL_URL": SAMPLE_DOTENV["EMAIL_URL"],
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    env.update(overrides)
    return {name: value for name, value in env.items() if value is not None}


def test_check_deploy_passes_with_production_values(tmp_path):
    env = deploy_env(tmp_path)
    assert len(env["SECRET_KEY"]) >= 50

    result = run_manage(["check", "--deploy", "--fail-level", "WARNING"], env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_passes_with_the_environment_compose_gives_web(tmp_path):
    env = resolved_environment("web", SAMPLE_DOTENV)
    # `check` does not connect to the database; SQLite avoids resolving the host `db`.
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'tandem.sqlite3'}"

    result = run_manage(["check", "--deploy", "--fail-level", "WARNING"], env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_without_email_url_reports_the_console_mailer(tmp_path):
    # Without EMAIL_URL the settings fall back to the console backend, which Django 6.1's
    # deploy checks report as an error: invitations and password resets would not be sent.
    result = run_manage(["check", "--deploy", "--fail-level", "WARNING"],
                        deploy_env(tmp_path, EMAIL_URL=None))

    assert result.returncode == 1
    assert "(mail.E001)" in result.stderr
    assert "System check identified 1 issue (0 silenced)." in result.stderr


def test_settings_refuse_to_load_without_secret_key_when_debug_is_off(tmp_path):
    result = run_manage(["check"], deploy_env(tmp_path, SECRET_KEY=None))

    assert result.returncode == 1
    assert "ImproperlyConfigured: SECRET_KEY must be set when DEBUG is off." in result.stderr


# --- Dockerfile and .dockerignore ------------------------------------------------------------


def test_base_image_is_python_312_or_newer():
    (base,) = dockerfile_values("FROM")  # a single stage
    image = [word for word in base.split() if not word.startswith("--")][0]
    name, _, tag = image.partition(":")
    version = re.match(r"(\d+)\.(\d+)", tag)

    assert name in {"python", "docker.io/library/python"}
    assert version is not None, f"no Python version in the tag of {image}"
    assert (int(version[1]), int(version[2])) >= (3, 12)


def test_image_installs_the_runtime_lock_only():
    runs = dockerfile_values("RUN")
    pip_installs = [run for run in runs if "pip install" in run]

    assert pip_installs == ["pip install --no-cache-dir -r requirements.txt"]
    assert "requirements.txt ." in dockerfile_values("COPY")
    assert not [args for _, args in dockerfile_instructions() if "requirements-dev" in args]


def test_image_runs_gunicorn_as_an_unprivileged_user():
    assert dockerfile_cmd() == ["gunicorn", "reviewapp.wsgi", "--bind", "0.0.0.0:8000",
                                "--workers", "3", "--access-logfile", "-"]
    assert dockerfile_values("USER") == ["tandem"]
    assert dockerfile_values("EXPOSE") == ["8000"]
    assert dockerfile_values("VOLUME") == ['["/data/media"]']
    # The build-time SECRET_KEY and DEBUG must not stay in the image's environment.
    for env in dockerfile_values("ENV") + dockerfile_values("ARG"):
        assert "SECRET_KEY" not in env and "DEBUG" not in env


def collectstatic_build_env() -> dict[str, str]:
    """The NAME=value prefix of the Dockerfile's collectstatic RUN step."""
    (step,) = [run for run in dockerfile_values("RUN") if "collectstatic" in run]
    words = shlex.split(step.split("&&")[0])
    assignments = words[: words.index("python")]
    assert words[words.index("python"):] == ["python", "manage.py", "collectstatic", "--noinput"]
    return dict(word.split("=", 1) for word in assignments)


def test_dockerfile_collectstatic_step_works_and_collects_the_source_maps(tmp_path):
    env = collectstatic_build_env()
    assert env["DEBUG"] == "0"
    static_root = tmp_path / "staticfiles"

    result = run_manage(["collectstatic", "--noinput"], {**env, "STATIC_ROOT": str(static_root)})

    assert result.returncode == 0, result.stdout + result.stderr
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    for source in ["vendor/bootstrap/bootstrap.min.css", "vendor/bootstrap/bootstrap.min.css.map",
                   "vendor/bootstrap/bootstrap.bundle.min.js",
                   "vendor/bootstrap/bootstrap.bundle.min.js.map", "vendor/htmx/htmx.min.js",
                   "css/tandem.css"]:
        assert (static_root / manifest[source]).is_file(), source
        assert (static_root / (manifest[source] + ".gz")).is_file(), source
    css = (static_root / manifest["vendor/bootstrap/bootstrap.min.css"]).read_text()
    map_name = Path(manifest["vendor/bootstrap/bootstrap.min.css.map"]).name
    assert css.rstrip().endswith(f"/*# sourceMappingURL={map_name} */")


def _dockerignore_rules() -> list[tuple[bool, re.Pattern]]:
    rules = []
    for line in DOCKERIGNORE.read_text().splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        regex, i = "", 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex, i = regex + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                regex, i = regex + ".*", i + 2
            else:
                char = pattern[i]
                regex += {"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char))
                i += 1
        rules.append((negate, re.compile(regex)))
    return rules


def dockerignored(path: str) -> bool:
    """Docker's rule: a path is left out when it or a parent folder matches; last match wins."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    ignored = False
    for negate, regex in _dockerignore_rules():
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            ignored = not negate
    return ignored


def test_dockerignore_keeps_what_the_build_needs_and_drops_secrets_and_dev_files():
    static_files = [p.relative_to(ROOT).as_posix() for p in (ROOT / "static").rglob("*")
                    if p.is_file()]
    assert "static/vendor/bootstrap/bootstrap.min.css.map" in static_files
    for path in [*static_files, "requirements.txt", "manage.py", "reviewapp/wsgi.py",
                 "reviewapp/settings.py", "projects/tasks.py", "templates",
                 "docker/entrypoint-web.sh"]:
        assert not dockerignored(path), path
    for path in [".env", ".venv/bin/python", "var/tandem.sqlite3", "var/media/jobs/x.csv",
                 ".git/HEAD", "staticfiles/staticfiles.json", "requirements-dev.txt",
                 "tests/settings.py", "projects/__pycache__/models.cpython-312.pyc"]:
        assert dockerignored(path), path
