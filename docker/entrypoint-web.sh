#!/bin/sh
# Start of the `web` service (docker-compose.yml): apply pending migrations, then replace this
# shell with the command given, the image's gunicorn command.
set -eu
python manage.py migrate --noinput
exec "$@"
