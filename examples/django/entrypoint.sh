#!/bin/sh
# The app container's start: refreshes the shared static volume, then becomes the command (uWSGI)
# as PID 1, so that SIGTERM reaches uWSGI itself (die-on-term: it stops and exits 0).
set -eu
# Docker and podman fill a named volume from the image only while the volume is new, so after a
# rebuild it would keep the old files: copy this image's collected files over it at every start.
if [ -d /srv/static ] && [ -w /srv/static ]; then
  find /srv/static -mindepth 1 -delete
  cp -R /srv/mysite/static/. /srv/static/
fi
# No key ships in the image: without DJANGO_SECRET_KEY each start makes one (sessions end then).
if [ -z "${DJANGO_SECRET_KEY:-}" ]; then
  DJANGO_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')
  export DJANGO_SECRET_KEY
fi
exec "$@"
