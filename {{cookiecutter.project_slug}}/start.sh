#!/bin/sh
# Start the production server: migrate the database, collect the static files (the admin's CSS),
# then replace this shell with gunicorn, which loads the model once before its workers fork.
# `make start` and the Dockerfile run it, with .venv's Python when there is one (BIN=dir for another).
set -eu
cd "$(dirname "$0")"
python="${BIN:-.venv/bin}/python"
[ -x "$python" ] || python=python
# Prometheus counts of every worker, added up by /metrics: a folder of their own, emptied at each start
# (before anything imports the app: its counters make their files there at import).
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-${TMPDIR:-/tmp}/{{ cookiecutter.project_slug }}-metrics}"
rm -rf "$PROMETHEUS_MULTIPROC_DIR"
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
# START_MIGRATE=no where a Job migrates before the rollout (deploy/); START_COLLECTSTATIC=no where the
# files were collected at build time and the filesystem is read-only (the Dockerfile sets it).
if [ "${START_MIGRATE:-yes}" != no ]; then
  "$python" manage.py migrate --noinput
fi
if [ "${START_COLLECTSTATIC:-yes}" != no ]; then
  "$python" manage.py collectstatic --noinput --verbosity 0
fi
exec "$python" -m gunicorn --config gunicorn.conf.py "$@"
