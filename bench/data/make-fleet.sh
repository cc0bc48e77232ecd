#!/bin/sh
# Makes the fleet revision series used by bench/fleet.bench.mjs (issue 16) with
# ../shared/tools/debian-closure.py. Run `apt-get update` first: the output depends only
# on the Debian 12 Packages lists in /var/lib/apt/lists. Each revision keeps the previous
# bumps, as a package set that moves forward; every image rebuilds at every revision.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
conv="python3 $here/../../../shared/tools/debian-closure.py --no-meta"
cd "$here"

bumps() {
  case $1 in
    0) echo "" ;;
    1) echo "--bump-source openssl" ;;
    2) echo "--bump-source openssl --bump-source tzdata" ;;
    3) echo "--bump-source openssl --bump-source tzdata --bump-source python3.11" ;;
    4) echo "--bump-source openssl --bump-source tzdata --bump-source python3.11 --bump-source perl" ;;
  esac
}

# 16 service images: a service's own top-level path (new version every revision) over
# the Debian packages it runs on.
services() {
  cat <<'LIST'
nginx nginx
apache apache2
haproxy haproxy
postgres postgresql
mariadb mariadb-server
redis redis-server
memcached memcached
rabbitmq rabbitmq-server
django python3-django gunicorn python3-psycopg2
node nodejs
php php-fpm
tomcat tomcat10
prometheus prometheus
mosquitto mosquitto
bind bind9
postfix postfix dovecot-imapd
LIST
}

for r in 0 1 2 3 4; do
  mkdir -p fleet16/r$r fleet6/r$r
  services | while read -r name pkgs; do
    # shellcheck disable=SC2046,SC2086
    $conv --fake-root "svc-$name" --fake-root-version "1.$r" $(bumps $r) -o fleet16/r$r/$name.json.gz $pkgs
  done
  # The six images of ../shared/data/debian-bookworm, as a fleet that moves together.
  $conv $(bumps $r) -o fleet6/r$r/python-scipy.json.gz python3-numpy python3-scipy
  $conv $(bumps $r) -o fleet6/r$r/postgresql.json.gz postgresql
  $conv $(bumps $r) -o fleet6/r$r/texlive-full.json.gz texlive-full
  $conv $(bumps $r) -o fleet6/r$r/gnome-desktop.json.gz task-gnome-desktop
  $conv $(bumps $r) -o fleet6/r$r/libreoffice.json.gz libreoffice
  $conv $(bumps $r) -o fleet6/r$r/openjdk17-maven.json.gz openjdk-17-jdk maven
done
