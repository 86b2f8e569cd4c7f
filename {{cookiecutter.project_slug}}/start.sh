#!/bin/sh
# Start the production server: migrate the database, collect the static files (the admin's CSS),
# then replace this shell with gunicorn, which loads the model once before its workers fork.
# `make start` and the Dockerfile run it, with .venv's Python when there is one (BIN=dir for another).
set -eu
cd "$(dirname "$0")"
python="${BIN:-.venv/bin}/python"
[ -x "$python" ] || python=python
"$python" manage.py migrate --noinput
"$python" manage.py collectstatic --noinput --verbosity 0
exec "$python" -m gunicorn --config gunicorn.conf.py "$@"
