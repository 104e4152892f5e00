#!/bin/sh
# Create bench/<venv> with one peer tool pinned, apart from the project's own .venv (a peer
# tool pulls in its own pandas, scikit-learn...): what setup_bibdedupe.sh and
# setup_asreview.sh run.
# Usage: sh bench/peer_venv.sh VENV_NAME "package==version" DISTRIBUTION_NAME
set -eu
here=$(cd "$(dirname "$0")" && pwd)
venv="$here/$1"
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
"$venv/bin/python" -m pip install --quiet "$2"
"$venv/bin/python" -c "import importlib.metadata as m, sys; print(sys.argv[1], m.version(sys.argv[1]))" "$3"
