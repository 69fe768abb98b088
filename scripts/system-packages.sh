#!/usr/bin/env bash
# Install the Debian packages DealFinder needs, skipping what is already there.
set -euo pipefail
packages=(
  python3 python3-venv python3-dev build-essential   # Debian's Python: its sqlite3 loads SpatiaLite
  gdal-bin libsqlite3-mod-spatialite                 # GeoDjango: GDAL/GEOS/PROJ, SpatiaLite
  postgresql-15 postgresql-15-postgis-3 postgresql-client-15
  redis-server                                       # Celery broker
  chromium                                           # browser tests (driven by Playwright)
  nodejs npm                                         # GoHighLevel contract tests (Stoplight Prism)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodejs/npm may come from elsewhere (e.g. NodeSource); accept any working node + npm.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]:-}"
((${#missing[@]})) || exit 0
echo "Installing Debian packages: ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "Need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
