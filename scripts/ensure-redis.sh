#!/usr/bin/env bash
# Makes sure redis-server and redis-cli are installed and a Redis server answers
# on 127.0.0.1:6379 (the tests also start their own Redis Cluster on other
# loopback ports). Installs Debian's redis-server when it is missing.
set -euo pipefail

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  echo "ensure-redis: redis-server not found; installing Debian's redis-server" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq redis-server redis-tools >/dev/null
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "ensure-redis: no Redis on 127.0.0.1:6379; starting one" >&2
  mkdir -p /tmp/scribe-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp/scribe-redis --logfile /tmp/scribe-redis/redis.log
  for _ in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break
    sleep 0.1
  done
fi
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null || { echo "ensure-redis: Redis did not start" >&2; exit 1; }
