#!/usr/bin/env bash
# Makes sure a Redis answers on 127.0.0.1:6379 for the tests, starting a local one
# (no persistence) if nothing listens there. Installs Debian's redis-server if absent.
set -euo pipefail

redis_answers() {
  exec 3<>/dev/tcp/127.0.0.1/6379 || return 1
  printf 'PING\r\n' >&3
  local reply
  read -r -t 2 reply <&3 || reply=""
  exec 3>&-
  [[ "$reply" == +PONG* ]]
}

if redis_answers 2>/dev/null; then
  echo "redis answers on 127.0.0.1:6379"
  exit 0
fi

if ! command -v redis-server >/dev/null; then
  apt-get update -qq && apt-get install -y -qq redis-server
fi
redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
for _ in $(seq 1 50); do
  if redis_answers 2>/dev/null; then
    echo "started redis on 127.0.0.1:6379"
    exit 0
  fi
  sleep 0.1
done
echo "redis did not start on 127.0.0.1:6379" >&2
exit 1
