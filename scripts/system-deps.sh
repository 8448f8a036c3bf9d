#!/usr/bin/env bash
# What the README's commands need from the system, checked before anything else runs.
#   scripts/system-deps.sh demo   Java 17 + Maven (the local Kafka broker), Prometheus and Alertmanager
#   scripts/system-deps.sh test   the same, plus stress-ng, chromium and chromium-driver (the tests use all)
# Missing packages are installed with Debian's apt-get when run as root; otherwise this prints the one
# line to run and stops at once, before minutes of tests.
set -euo pipefail
what="${1:-test}"
need=()
python3 -c "import venv, ensurepip" >/dev/null 2>&1 || need+=(python3-venv)
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need+=(maven)
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
if [ "$what" = test ]; then
  command -v stress-ng >/dev/null 2>&1 || need+=(stress-ng)
  # the inbox's browser test: headless Chromium driven through chromedriver
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
fi
[ ${#need[@]} -eq 0 ] && exit 0
line="apt-get install -y --no-install-recommends ${need[*]}"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: installing ${need[*]} (Debian packages)"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
  # Debian's packages may start services of their own; the tests and `make demo` start their own
  # instances (and the packaged Alertmanager would hold 9093/9094, the local Kafka's ports).
  for service in prometheus prometheus-alertmanager; do
    if command -v systemctl >/dev/null 2>&1; then systemctl stop "$service" >/dev/null 2>&1 || true; fi
    if [ -x "/etc/init.d/$service" ]; then "/etc/init.d/$service" stop >/dev/null 2>&1 || true; fi
  done
  exit 0
fi
echo "missing system packages; install them first (as root):  $line" >&2
exit 1
