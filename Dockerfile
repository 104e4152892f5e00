# Tandem's production image: gunicorn serving reviewapp.wsgi, static files collected at build
# time and served by whitenoise. The same image runs the Celery worker (docker-compose.yml).
# Configuration comes from the environment at run time (reviewapp/settings.py).
FROM python:3.12-slim

# The PNG of the PRISMA diagram (resvg-py) draws its text with DejaVu Sans: resvg reads fonts
# from the system, and the slim image has none.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MEDIA_ROOT=/data/media

WORKDIR /app

# The app runs as this unprivileged user; the code stays root-owned and read-only to it.
RUN groupadd --system --gid 10001 tandem \
    && useradd --system --uid 10001 --gid tandem --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin tandem

# The runtime lock only: requirements-dev.txt (tests, linters) never goes into the image.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .

# collectstatic imports the settings, which refuse to load with DEBUG off and no SECRET_KEY.
# These values exist for this one RUN step only and are not kept in the image's environment.
# CELERY_BROKER_URL=memory:// stops the settings creating var/celery-broker/ in the image.
RUN DEBUG=0 SECRET_KEY=build-time-collectstatic-only-not-a-secret ALLOWED_HOSTS=localhost \
        CELERY_BROKER_URL=memory:// python manage.py collectstatic --noinput \
    && chmod 0755 docker/entrypoint-web.sh \
    && mkdir -p /data/media /app/var \
    && chown -R tandem:tandem /data /app/var

USER tandem

# Uploaded and generated files (job results). A named volume in docker-compose.yml,
# shared by the web and worker containers.
VOLUME ["/data/media"]

EXPOSE 8000

# 3 sync workers suit a small server (about 2 x CPUs + 1 for 1-2 CPUs); long work runs in
# Celery, not in requests. The access log goes to stdout, errors to stderr.
CMD ["gunicorn", "reviewapp.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
