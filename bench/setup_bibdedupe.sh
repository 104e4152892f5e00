#!/bin/sh
# Create bench/.venv-bibdedupe with bib-dedupe (the peer tool we compare against).
# Kept apart from the project's own .venv on purpose: bib-dedupe pulls in pandas, numpy, etc.
# Usage: sh bench/setup_bibdedupe.sh   (from the repository root or from bench/)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec sh "$here/peer_venv.sh" .venv-bibdedupe "bib-dedupe==${BIBDEDUPE_VERSION:-0.11.0}" bib-dedupe
