#!/usr/bin/env bash
# Time the student workflow's install step ("install the autograder bundle") with pip and
# with uv, cold (empty cache) and warm (the cache a previous run left, as the workflow's
# cache restores it), ROUNDS times each. Usage: bench/install_time.sh BUNDLE [ROUNDS]
# (BUNDLE = OUT/autograder from `grader release OUT`; needs python3 and uv on PATH and
# network access to PyPI). The venv is created beforehand and not timed, as on GitHub
# the interpreter comes from the setup step. pip runs --isolated: the machine's pip
# configuration (local wheel folders, constraints) would not be there on GitHub.
set -euo pipefail
bundle=$(realpath "$1"); rounds=${2:-3}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
seconds() {
  local start end; start=$(date +%s.%N)
  "$@" >"$work/log" 2>&1 || { echo "FAILED: $(tail -n 3 "$work/log")"; return; }
  end=$(date +%s.%N); echo "$end - $start" | bc
}
pip_install() { PIP_CACHE_DIR="$1" "$2/bin/python" -m pip --isolated install --disable-pip-version-check -q -e "$bundle"; }
uv_install() { UV_CACHE_DIR="$1" uv pip install --no-config -q --python "$2/bin/python" -e "$bundle"; }
for tool in pip uv; do
  warm="$work/$tool-warm-cache"; rm -rf "$warm"
  python3 -m venv "$work/prime" && ${tool}_install "$warm" "$work/prime" && rm -rf "$work/prime"
  for round in $(seq "$rounds"); do
    for cache in cold warm; do
      venv="$work/venv"; rm -rf "$venv"; python3 -m venv "$venv"
      dir="$warm"; [ "$cache" = cold ] && dir="$work/cold-$round" && rm -rf "$dir"
      echo "$tool $cache round $round: $(seconds ${tool}_install "$dir" "$venv") s"
      rm -rf "$venv" "$work/cold-$round"
    done
  done
done
