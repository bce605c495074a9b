#!/usr/bin/env bash
# What the tests need from Debian: PostgreSQL, Chromium for the browser tests, Japanese fonts,
# nginx (serves the disaster snapshot in its test and benchmark), Redis (the SNS triage stream).
# Installs only what is missing, so a prepared machine pays nothing.
set -euo pipefail

missing=()
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=(fonts-noto-cjk)
[ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -x /usr/bin/redis-server ] || missing+=(redis-server)

if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing from Debian: ${missing[*]}" >&2
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
