# Shared by the scripts in this folder; source it from the repository root.
DATA=${DEFLECT_DATA:-../shared/data}
BIN=target/release/deflect
FULL=scratch/alibaba-full/articles

# Builds the release binary when there is none.
need_binary() {
  [ -x "$BIN" ] || cargo build --release
}

# Unpacks the full Alibaba Cloud corpus (14,107 files) into scratch/ on first use.
need_alibaba_full() {
  if [ ! -d "$FULL" ]; then
    mkdir -p scratch/alibaba-full
    tar -xJf "$DATA/alibabacloud-docs/alibabacloud-docs-cn-full.tar.xz" -C scratch/alibaba-full
  fi
}
