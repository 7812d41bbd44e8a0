#!/usr/bin/env bash
# Installs every Debian package Parlor needs to build, run and test (idempotent; needs root).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev clang-format clang-tidy
  libssl-dev libsrtp2-dev libusrsctp-dev libprotobuf-dev protobuf-compiler
  libboost-dev libboost-system-dev nlohmann-json3-dev libyaml-cpp-dev
  libsqlite3-dev libsoci-dev libpq-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcurl4-openssl-dev libsodium-dev zlib1g-dev
  libavformat-dev libavcodec-dev libavutil-dev
  chromium postgresql coturn redis-server ffmpeg curl ca-certificates
  python3 python3-yaml systemd
  iproute2  # ip and tc: tests that block ports (tests/lib/netblock.js) and shape a downlink (e2e congestion)
  golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v3-dev  # tools/helm-render
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing packages (${missing[*]}); run as root or install them" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
