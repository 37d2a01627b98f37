#!/usr/bin/env bash
# Install the released portcullis binary for this runner: download the archive for its platform and
# the release's SHA256SUMS, verify the checksum, unpack into $RUNNER_TEMP, and put it on the PATH.
#
# Environment: INPUT_VERSION (a tag, `latest` or empty: the action's own tag when it is one, else
# latest), ACTION_REF, ACTION_REPOSITORY, RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_PATH.
# PORTCULLIS_RELEASE_URL replaces https://github.com/<repository>/releases (mirrors, tests).
set -euo pipefail

fail() { echo "::error::portcullis install: $*" >&2; exit 1; }

case "${RUNNER_OS:-$(uname -s)}/${RUNNER_ARCH:-$(uname -m)}" in
  Linux/X64 | Linux/x86_64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64 | Linux/aarch64) target=aarch64-unknown-linux-musl ;;
  macOS/X64 | Darwin/x86_64) target=x86_64-apple-darwin ;;
  macOS/ARM64 | Darwin/arm64) target=aarch64-apple-darwin ;;
  *) fail "no release for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}; run the container image (ghcr.io/<owner>/portcullis) or build from source" ;;
esac

version="${INPUT_VERSION:-}"
if [ -z "$version" ]; then
  case "${ACTION_REF:-}" in v[0-9]*) version="$ACTION_REF" ;; *) version=latest ;; esac
fi
case "$version" in
  latest | v[0-9]*) ;;
  *) fail "version must be a release tag such as v0.2.0, or latest (got \"$version\")" ;;
esac

base="${PORTCULLIS_RELEASE_URL:-https://github.com/${ACTION_REPOSITORY:?ACTION_REPOSITORY is not set}/releases}"
if [ "$version" = latest ]; then url="$base/latest/download"; else url="$base/download/$version"; fi
asset="portcullis-$target.tar.gz"

dir="${RUNNER_TEMP:-$(mktemp -d)}/portcullis"
mkdir -p "$dir/bin"
fetch() { curl --fail --silent --show-error --location --retry 3 --proto '=https,file' -o "$2" "$1" || fail "cannot download $1"; }
fetch "$url/$asset" "$dir/$asset"
fetch "$url/SHA256SUMS" "$dir/SHA256SUMS"

want=$(awk -v a="$asset" '$2 == a || $2 == "*" a { print $1 }' "$dir/SHA256SUMS")
[ -n "$want" ] || fail "SHA256SUMS of $version lists no $asset"
if command -v sha256sum >/dev/null; then got=$(sha256sum "$dir/$asset" | awk '{print $1}'); else got=$(shasum -a 256 "$dir/$asset" | awk '{print $1}'); fi
[ "$want" = "$got" ] || fail "checksum mismatch for $asset: SHA256SUMS says $want, the download is $got"

tar -xzf "$dir/$asset" -C "$dir/bin" portcullis || fail "$asset has no portcullis binary"
chmod +x "$dir/bin/portcullis"
"$dir/bin/portcullis" --version
if [ -n "${GITHUB_PATH:-}" ]; then echo "$dir/bin" >> "$GITHUB_PATH"; fi
