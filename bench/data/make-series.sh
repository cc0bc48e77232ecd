#!/bin/sh
# Makes the larger update series used by the evaluation tables (bench/evaluate.bench.mjs,
# docs/evaluation.md) with ../shared/tools/debian-closure.py. Run `apt-get update` first:
# the output depends only on the Debian 12 Packages lists in /var/lib/apt/lists (their
# dates are recorded in each file's _meta.index). Each version keeps the previous bumps.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
conv="python3 $here/../../../shared/tools/debian-closure.py"
cd "$here"

# A GNOME desktop with Recommends (about 1,500 paths): ten security-style updates.
D=""
i=0
$conv --recommends -o desktop-v0.json.gz task-gnome-desktop
for src in tzdata openssl glib2.0 libxml2 curl systemd mesa gtk+3.0 python3.11 glibc; do
  i=$((i + 1))
  D="$D --bump-source $src"
  $conv --recommends $D -o desktop-v$i.json.gz task-gnome-desktop
done

# An application image: a fake top-level path 'webapp' whose version changes every
# release, over a Python web stack; some releases also pick up a library update.
A=""
for k in 0 1 2 3 4 5 6 7; do
  case $k in
    2) A="$A --bump-source openssl" ;;
    4) A="$A --bump-source python3.11" ;;
    6) A="$A --bump-source tzdata" ;;
  esac
  $conv --fake-root webapp --fake-root-version "1.$k" $A -o webapp-v$k.json.gz \
    python3-django python3-psycopg2 python3-requests gunicorn postgresql-client
done
