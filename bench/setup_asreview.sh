#!/bin/sh
# Create bench/.venv-asreview with ASReview (the peer tool bench/ranking.py compares against).
# Kept apart from the project's own .venv on purpose: ASReview pulls in its own scikit-learn,
# pandas, Flask, etc. asreview-insights 1.6.1 (the newest) requires asreview < 3 and cannot be
# installed beside 3.x, so bench/ranking.py reads the run's labelling order from the
# .asreview file and computes WSS / recall itself, with the same function as for our runs.
# Usage: sh bench/setup_asreview.sh   (from the repository root or from bench/)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec sh "$here/peer_venv.sh" .venv-asreview "asreview==${ASREVIEW_VERSION:-3.0.8}" asreview
