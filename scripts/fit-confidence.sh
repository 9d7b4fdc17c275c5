#!/usr/bin/env bash
# Refits the answer-confidence model (src/answer/confidence.rs COEFFICIENTS) on the dev split
# of both labelled ticket sets: our tickets over the bundled kb/, and the Alibaba Cloud tickets
# over the full Alibaba corpus (unpacked into scratch/ on first use). Fitting on two KBs keeps
# the model from learning one KB's score scale. Prints the coefficients and the AUC of each set
# and split; paste the coefficients into COEFFICIENTS, rebuild, and compare the decision lines
# of `deflect eval --tickets` before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
need_binary
need_alibaba_full
mkdir -p scratch/eval
"$BIN" eval --kb "$FULL" --index scratch/eval-index/alibaba --tickets tests/fixtures/alibaba_tickets.jsonl \
  --results scratch/eval/alibaba_tickets.results.jsonl
"$BIN" eval --tickets tests/fixtures/tickets.jsonl --fit-confidence --fit-with scratch/eval/alibaba_tickets.results.jsonl
