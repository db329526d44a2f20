#!/usr/bin/env bash
# Runs every notebook in notebooks/ top to bottom on the committed results and fails on any
# error (CI: .ci/run). Steps:
#   1. every committed notebook must have its outputs cleared (no outputs, no execution counts);
#   2. a virtual environment in $FLEXSIM_NB_VENV (default target/nbvenv) with
#      notebooks/requirements.txt, created once and reused while the requirements are unchanged;
#   3. pytest --nbmake notebooks/*.ipynb, matplotlib on the Agg backend, figures written to
#      $FLEXSIM_NB_OUT (default target/notebooks-out), never into results/ (the notebooks are
#      run in memory: the committed files are not rewritten).
# Needs python3 (>= 3.11) with the venv module, and PyPI (or a pip mirror) the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${FLEXSIM_NB_VENV:-target/nbvenv}
export FLEXSIM_NB_OUT=${FLEXSIM_NB_OUT:-$PWD/target/notebooks-out}
export MPLBACKEND=Agg

# 1. outputs cleared
"$PYTHON" - notebooks/*.ipynb <<'EOF'
import json, sys
bad = []
for path in sys.argv[1:]:
    nb = json.load(open(path))
    for i, c in enumerate(nb["cells"]):
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count") is not None):
            bad.append(f"{path}: cell {i} has outputs or an execution count")
if bad:
    print("\n".join(bad))
    print("clear them: jupyter nbconvert --clear-output --inplace notebooks/*.ipynb")
    sys.exit(1)
print(f"notebooks: {len(sys.argv) - 1} notebooks, outputs cleared")
EOF

# 2. the venv, keyed by the requirements' hash
want=$(sha256sum notebooks/requirements.txt | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.requirements-sha256" 2>/dev/null)" != "$want" ]; then
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV" || {
    echo "notebooks: cannot create a venv with $PYTHON (Debian/Ubuntu: apt-get install python3-venv)" >&2
    exit 1
  }
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
    -r notebooks/requirements.txt
  echo "$want" >"$VENV/.requirements-sha256"
fi

# the venv's own kernel, found first whatever kernels the user has installed
if [ ! -f "$VENV/share/jupyter/kernels/python3/kernel.json" ]; then
  "$VENV/bin/python" -m ipykernel install --sys-prefix --name python3 >/dev/null
fi
JUPYTER_PATH="$(cd "$VENV" && pwd)/share/jupyter"
export JUPYTER_PATH

# 3. run them
mkdir -p "$FLEXSIM_NB_OUT"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider --nbmake --nbmake-timeout=600 \
  --nbmake-kernel=python3 notebooks/*.ipynb
echo "notebooks: figures in $FLEXSIM_NB_OUT"
