#!/usr/bin/env bash
# Coverage-guided fuzzing of every target in portcullis::fuzz with cargo-fuzz (libFuzzer):
#   benches/fuzz.sh SECONDS [TARGET...]      (default: every target, 60 s each)
# Needs the nightly toolchain; installs the pinned cargo-fuzz if it is missing. Seeds come from the
# fixtures (tests/fuzz_corpus.rs write_seeds); the corpus grows under target/fuzz-corpus/<target>.
# A crash leaves its input under fuzz/artifacts/<target>/: fix the bug, then move the input to
# fuzz/regressions/<target>/ so that every `cargo test` replays it.
# FUZZ_SANITIZER=address builds with AddressSanitizer (default none: Portcullis has no unsafe code,
# and an uninstrumented build is several times faster). 16 codegen units: with cargo-fuzz's default
# of one, compiling the instrumented aws-sdk-ec2 ran this 24 GiB machine out of memory.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_FUZZ_VERSION=0.13.1
seconds=${1:-60}
shift || true
if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(ls fuzz/fuzz_targets | sed 's/\.rs$//')
fi
corpus=target/fuzz-corpus
seeds=$(mktemp -d)
PORTCULLIS_FUZZ_SEEDS="$seeds" cargo test --quiet --test fuzz_corpus write_seeds -- --ignored >/dev/null
sanitizer=${FUZZ_SANITIZER:-none}
status=0
for t in "${targets[@]}"; do
  mkdir -p "$corpus/$t"
  echo "== $t: ${seconds}s"
  log=$(mktemp)
  # -rss_limit_mb: an input that makes a parser hold gigabytes is a bug too.
  set +e
  cargo +nightly fuzz run --fuzz-dir fuzz -s "$sanitizer" --codegen-units 16 "$t" "$corpus/$t" "$seeds/$t" \
    -- -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  grep -E "^stat::(number_of_executed_units|peak_rss_mb|new_units_added)|^#[0-9]+ +DONE|SUMMARY|panicked at|Test unit written" "$log" || true
  if [ $rc -ne 0 ]; then
    echo "!! $t failed (exit $rc): the input is under fuzz/artifacts/$t/; last lines:"
    tail -20 "$log"
    status=1
  fi
  rm -f "$log"
done
rm -rf "$seeds"
exit $status
