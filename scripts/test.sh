#!/usr/bin/env bash
# Installs everything into a fresh virtualenv and runs every check and test: the README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${AMPLEMARKET_TEST_VENV:-.venv}"

step() { printf '\n==> %s\n' "$*"; }

step "virtualenv $venv"
python3 -m venv "$venv"
# shellcheck disable=SC1091
. "$venv/bin/activate"
python -m pip install -q -U pip
step "build and install amplemarket with its dev extras"
# pip prints nothing while it compiles: say what is happening and how long it takes.
echo "compiling the Rust extension (pip shows no output meanwhile): about 5 minutes on 2 cores, less on more"
# One Cargo profile for the extension and `cargo test`, so dependencies compile once (see Cargo.toml).
# The spark and dask extras too: tests/scale runs pyspark (local mode, needs Java 17) and a dask LocalCluster.
MATURIN_PEP517_ARGS="--profile ci" python -m pip install -q -e ".[dev,spark,dask]"

step "cargo fmt --check"
cargo fmt --check
step "cargo clippy"
cargo clippy --all-targets --quiet -- -D warnings
step "cargo test"
cargo test --quiet --profile ci
step "cargo deny (licenses, bans, sources)"
# From crates.io into the virtualenv; a debug build compiles in half the time and checks this graph in a second.
# The advisories check is left out: its database is fetched from GitHub, which CI cannot reach (see README).
command -v cargo-deny >/dev/null || cargo install --quiet --locked --debug --root "$venv" cargo-deny@0.20.2
cargo deny check licenses bans sources

step "ruff"
ruff check .
ruff format --check .
step "mypy (stubs match the extension; examples type-check)"
python -m mypy.stubtest amplemarket._core
mypy python/amplemarket examples tests/typing

step "pytest"
pytest -q -p no:cacheprovider "$@"
