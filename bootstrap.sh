#!/usr/bin/env bash
# Shared first steps of ./run.sh and ./test.sh: install what a fresh Debian 12
# machine lacks, bootstrap autotools, configure into build/, and build.
# Extra arguments go to configure (only when build/ is configured anew).
set -euo pipefail
top=$(cd "$(dirname "$0")" && pwd)
cd "$top"

packages=(g++ make autoconf automake libtool pkg-config libevent-dev libssl-dev zlib1g-dev libboost-dev
          libyaml-cpp-dev libxxhash-dev libisal-dev libgtest-dev libbenchmark-dev liburing-dev python3 curl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  as_root=""
  [ "$(id -u)" -eq 0 ] || as_root="sudo"
  $as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
  echo "== autoreconf"
  autoreconf -fi >/dev/null
fi
mkdir -p build
cd build
if [ ! -f Makefile ] || [ ../configure -nt Makefile ]; then
  echo "== configure $*"
  ../configure --quiet --prefix="$top/build/install" "$@"
fi
echo "== make"
make -j2 >/dev/null
