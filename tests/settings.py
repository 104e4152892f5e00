"""Settings for the test run: the real settings module, fed the environment a test needs.

PostgreSQL and Redis are used when they answer (DATABASE_URL, REDIS_URL, defaulting to the
local servers of DEVELOPERS.md). When one does not, the run goes on with SQLite or an
in-memory broker and the tests marked as needing that server are skipped, each with its
reason; REQUIRE_SERVICES=1 turns a missing server into a failure (tests/conftest.py).
"""

import os
import socket
import tempfile
import uuid
from urllib.parse import urlparse

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/tandem"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def answers(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port),
                                      timeout=1):
            return True
    except OSError:
        return False


DATABASE_URL = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
REDIS_URL = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
POSTGRES_AVAILABLE = DATABASE_URL.startswith("postgres") and answers(DATABASE_URL, 5432)
REDIS_AVAILABLE = answers(REDIS_URL, 6379)

os.environ["DATABASE_URL"] = DATABASE_URL if POSTGRES_AVAILABLE else "sqlite:///:memory:"
os.environ["CELERY_BROKER_URL"] = REDIS_URL if REDIS_AVAILABLE else "memory://"
# A queue of this run's own, so nothing else on that Redis picks up our tasks.
os.environ["CELERY_QUEUE"] = f"tandem-test-{uuid.uuid4().hex[:10]}"
os.environ["DEBUG"] = "1"
os.environ.pop("TANDEM_DEMO", None)
os.environ.pop("EMAIL_URL", None)
os.environ.pop("SITE_URL", None)
os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="tandem-test-media-")
os.environ["RANKING_CACHE_DIR"] = tempfile.mkdtemp(prefix="tandem-test-ranking-")

from reviewapp.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
