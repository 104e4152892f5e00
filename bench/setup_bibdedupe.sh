#!/bin/sh
# Create bench/.venv-bibdedupe with bib-dedupe (the peer tool we compare against).
# Kept apart from the project's own .venv on purpose: bib-dedupe pulls in pandas, numpy, etc.
# Usage: sh bench/setup_bibdedupe.sh   (from the repository root or from bench/)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
venv="$here/.venv-bibdedupe"
version="${BIBDEDUPE_VERSION:-0.11.0}"
if [ -z "${PYTHON:-}" ]; then
  if [ -x "${PYENV_ROOT:-$HOME/.pyenv}/versions/3.12.1/bin/python3" ]; then
    PYTHON="${PYENV_ROOT:-$HOME/.pyenv}/versions/3.12.1/bin/python3"
  else
    PYTHON=$("$here/../scripts/find-python")
  fi
fi
echo "using $PYTHON"
"$PYTHON" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "bib-dedupe==$version"
"$venv/bin/python" -c "import bib_dedupe, importlib.metadata as m; print('bib-dedupe', m.version('bib-dedupe'))"
