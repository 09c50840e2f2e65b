#!/usr/bin/env bash
# Build the documentation site with warnings as errors (what CI runs). Installs nothing: it
# needs the docs extra in the repository's .venv (`.venv/bin/pip install -e ".[docs]"`).
#
#   bash docs/build.sh             # builds into a fresh temporary folder, then deletes it
#   bash docs/build.sh DIR         # builds into DIR (e.g. site/) and keeps it
#
# `mkdocs build --strict` fails on any warning: a cross reference [`membrax.x`][] in a
# docstring that resolves to nothing, a broken link between pages, a page missing from the
# nav, a snippet (--8<--) whose file is gone.
set -euo pipefail
cd "$(dirname "$0")/.."

mkdocs=.venv/bin/mkdocs
if [[ ! -x "$mkdocs" ]]; then
    echo "docs/build.sh: $mkdocs not found; install the docs extra first:" >&2
    echo "    .venv/bin/pip install -e \".[docs]\"" >&2
    exit 2
fi

if [[ $# -ge 1 ]]; then
    site_dir="$1"
else
    site_dir="$(mktemp -d "${TMPDIR:-/tmp}/membrax-site.XXXXXX")"
    trap 'rm -rf "$site_dir"' EXIT
fi

# Material for MkDocs prints an advertisement about its successor on every build; it is not
# a warning about this site.
export NO_MKDOCS_2_WARNING=1
"$mkdocs" build --strict --site-dir "$site_dir"
echo "docs/build.sh: built with no warnings into $site_dir"
