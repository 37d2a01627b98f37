#!/usr/bin/env bash
# Run the scan for the action: SARIF, findings JSON and the Markdown step summary, then record the
# exit code for the gate step (which runs after the SARIF upload, so a failing gate still uploads).
#
# Environment: the INPUT_* variables action.yml sets, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY,
# RUNNER_TEMP. PORTCULLIS_BIN names the binary (default: portcullis on the PATH).
set -uo pipefail

bin="${PORTCULLIS_BIN:-portcullis}"
out="${GITHUB_OUTPUT:-/dev/null}"
sarif="${INPUT_SARIF_FILE:-portcullis.sarif}"
json="${INPUT_JSON_FILE:-portcullis.json}"
summary="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/portcullis-summary.md"

# Nothing stale from an earlier run in this workspace may be uploaded or summarised.
rm -f "$sarif" "$json" "$summary"
args=(scan --quiet --sarif "$sarif" --json "$json" --markdown "$summary")
if [ -n "${INPUT_ARGS:-}" ]; then
  read -r -a extra <<< "$INPUT_ARGS"
  args+=("${extra[@]}")
fi
[ -n "${INPUT_TERRAFORM_PLAN:-}" ] && args+=(--terraform-plan "$INPUT_TERRAFORM_PLAN")
[ -n "${INPUT_TERRAFORM_ROOT:-}" ] && args+=(--terraform-root "$INPUT_TERRAFORM_ROOT")
[ -n "${INPUT_CONFIG:-}" ] && args+=(--config "$INPUT_CONFIG")
[ -n "${INPUT_SUPPRESSIONS:-}" ] && args+=(--suppressions "$INPUT_SUPPRESSIONS")
if [ -n "${INPUT_BASELINE:-}" ]; then
  if [ -f "$INPUT_BASELINE" ]; then
    args+=(--baseline "$INPUT_BASELINE")
  else
    # The first nightly run has no previous artifact: everything is new, and the log says why.
    echo "::warning::portcullis: baseline $INPUT_BASELINE not found; every failing finding counts as new"
  fi
fi
[ -n "${INPUT_FAIL_ON:-}" ] && args+=(--fail-on "$INPUT_FAIL_ON")
[ "${INPUT_ALLOW_INCOMPLETE:-false}" = true ] && args+=(--allow-incomplete)

echo "portcullis ${args[*]}"
"$bin" "${args[@]}"
code=$?

if [ -s "$summary" ] && [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  cat "$summary" >> "$GITHUB_STEP_SUMMARY"
fi
case "$code" in
  0) ;;
  1) echo "::error::portcullis: failing findings at or above ${INPUT_FAIL_ON:-the threshold} (see the job summary and code scanning)" ;;
  3) echo "::error::portcullis: some selected checks could not be evaluated (missing permissions or data; see the job summary), or set allow-incomplete" ;;
  *) echo "::error::portcullis: the scan did not run (exit $code): see the message above" ;;
esac
{
  echo "exit-code=$code"
  echo "sarif-file=$sarif"
  echo "json-file=$json"
  if [ -s "$sarif" ]; then echo "sarif-written=true"; else echo "sarif-written=false"; fi
} >> "$out"
exit 0
