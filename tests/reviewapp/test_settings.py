"""The settings module read with a given environment, in a fresh interpreter each time."""

import json
import os
import subprocess
import sys

from django.conf import settings

PRINT = """
import json
from django.conf import settings as s
print(json.dumps({
    "db": s.DATABASES["default"]["ENGINE"], "db_name": str(s.DATABASES["default"]["NAME"]),
    "broker": s.CELERY_BROKER_URL, "queue": s.CELERY_TASK_DEFAULT_QUEUE,
    "mailer": s.MAILERS["default"], "signup": s.ALLOW_SIGNUP, "demo": s.DEMO_MODE,
    "media": str(s.MEDIA_ROOT), "hosts": s.ALLOWED_HOSTS,
    "transport": getattr(s, "CELERY_BROKER_TRANSPORT_OPTIONS", None),
}))
"""


def read_settings(**env) -> dict:
    base = {k: v for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "CELERY_QUEUE", "EMAIL_URL",
                         "MEDIA_ROOT", "ALLOW_SIGNUP", "TANDEM_DEMO", "DEBUG", "SECRET_KEY",
                         "ALLOWED_HOSTS"}}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + PRINT],
        env={**base, "DJANGO_SETTINGS_MODULE": "reviewapp.settings", **env},
        capture_output=True, text=True, cwd=settings.BASE_DIR, check=True,
    )
    return json.loads(result.stdout)


def test_embedded_defaults_need_no_server():
    s = read_settings(DEBUG="1")

    var = str(settings.BASE_DIR / "var")
    assert (s["db"], s["db_name"]) == ("django.db.backends.sqlite3", f"{var}/tandem.sqlite3")
    assert s["broker"] == "filesystem://"
    assert s["transport"] == {"data_folder_in": f"{var}/celery-broker",
                              "data_folder_out": f"{var}/celery-broker",
                              "control_folder": f"{var}/celery-broker/control"}
    assert s["queue"] == "tandem"
    assert s["mailer"] == {"BACKEND": "django.core.mail.backends.console.EmailBackend",
                           "OPTIONS": {}}
    assert (s["signup"], s["demo"], s["media"]) == (False, False, f"{var}/media")
    assert s["hosts"] == ["localhost", "127.0.0.1", "[::1]"]


def test_servers_come_from_urls():
    s = read_settings(
        DEBUG="0", SECRET_KEY="x" * 60, ALLOWED_HOSTS="tandem.example.org",
        DATABASE_URL="postgres://tandem:pw@db:5432/tandem", CELERY_BROKER_URL="redis://redis:6379/1",
        EMAIL_URL="submission://mailer:secret@mail.example.org", MEDIA_ROOT="/data/media",
        ALLOW_SIGNUP="1", TANDEM_DEMO="1",
    )

    assert (s["db"], s["db_name"]) == ("django.db.backends.postgresql", "tandem")
    assert (s["broker"], s["transport"]) == ("redis://redis:6379/1", None)
    assert s["mailer"] == {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": {
        "host": "mail.example.org", "port": 587, "username": "mailer", "password": "secret",
        "use_tls": True, "use_ssl": False, "timeout": 20}}
    assert (s["signup"], s["media"], s["hosts"]) == (True, "/data/media", ["tandem.example.org"])
    assert s["demo"] is False  # the demo is never seeded without DEBUG
