#!/usr/bin/env bash
# Builds a KB of about 100,000 entries for benchmarks: the full Alibaba Cloud corpus
# (../shared/data, unpacked into scratch/ on first use) hard-linked N times under
# scratch/kb-100k/copy1 … copyN. Entry ids come from paths, so every copy's ids are distinct;
# the text repeats, which keeps term statistics realistic per copy (df and postings grow N×).
# Usage: scripts/make-100k.sh [--copies N]   (default 6: 6 × 17,161 = 102,966 entries)
set -euo pipefail
cd "$(dirname "$0")/.."
COPIES=6
while [ $# -gt 0 ]; do
  case $1 in
    --copies) COPIES=$2; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
. scripts/lib.sh
need_alibaba_full
OUT=scratch/kb-100k
rm -rf "$OUT"
mkdir -p "$OUT"
for i in $(seq 1 "$COPIES"); do
  cp -al "$FULL" "$OUT/copy$i"
done
echo "$OUT: $COPIES copies of $FULL, $(find "$OUT" -name '*.md' | wc -l) Markdown files"
