#!/usr/bin/env bash
# Print the first Python 3.10-3.13 interpreter whose sqlite3 can load SpatiaLite.
# Why: pyenv-built Pythons (the `python3` first on PATH on our machines) are compiled
# without sqlite extension loading, so GeoDjango's SpatiaLite backend cannot start
# with them. Debian's /usr/bin/python3 can. Override with PYTHON=/path/to/python.
set -euo pipefail
probe='
import sqlite3, sys, venv
assert (3, 10) <= sys.version_info[:2] < (3, 14), "Django 5.2 wants Python 3.10-3.13"
c = sqlite3.connect(":memory:")
c.enable_load_extension(True)
c.load_extension("mod_spatialite")
'
for candidate in ${PYTHON:-} /usr/bin/python3 /usr/bin/python3.11 python3.12 python3.11 python3; do
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if "$path" -c "$probe" >/dev/null 2>&1; then
    echo "$path"
    exit 0
  fi
done
echo "No Python 3.10-3.13 with SpatiaLite-capable sqlite3 found (try: apt-get install python3 python3-venv libsqlite3-mod-spatialite)." >&2
exit 1
