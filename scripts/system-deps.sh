#!/usr/bin/env bash
# What the README's commands need from the system, checked before anything else runs.
#   scripts/system-deps.sh demo   Java 17 + Maven (the local Kafka broker); Prometheus if it can be had
#   scripts/system-deps.sh test   the same, plus Prometheus and stress-ng (the tests use both)
# Missing packages are installed with Debian's apt-get when run as root; otherwise this prints the one
# line to run and stops at once, before minutes of tests.
set -euo pipefail
what="${1:-test}"
need=()
python3 -c "import venv, ensurepip" >/dev/null 2>&1 || need+=(python3-venv)
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need+=(maven)
if [ "$what" = test ]; then
  command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
  command -v stress-ng >/dev/null 2>&1 || need+=(stress-ng)
fi
[ ${#need[@]} -eq 0 ] && exit 0
line="apt-get install -y --no-install-recommends ${need[*]}"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: installing ${need[*]} (Debian packages)"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
  # Debian's prometheus package may start a service of its own; the tests start their own instance.
  if command -v systemctl >/dev/null 2>&1; then systemctl stop prometheus >/dev/null 2>&1 || true; fi
  exit 0
fi
echo "missing system packages; install them first (as root):  $line" >&2
exit 1
