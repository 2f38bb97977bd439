#!/usr/bin/env bash
# The house format stays applied: every .cc and .h file of the source tree is as clang-format
# (Debian's, with the top-level .clang-format) would write it. Prints the files that are not and
# how to fix them.
set -euo pipefail
top="${1:?usage: format_check.sh SOURCE_DIR}"
cd "$top"
command -v clang-format >/dev/null || { echo "clang-format is not installed (scripts/install-deps installs it)" >&2; exit 1; }
mapfile -t files < <(find . \( -path ./build -o -path '*/node_modules' -o -path ./.git -o -path ./var \) -prune \
  -o -type f \( -name '*.cc' -o -name '*.h' \) -print | sort)
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  printf 'not formatted: %s\n' "${bad[@]}" >&2
  echo "run: clang-format -i ${bad[*]}" >&2
  exit 1
fi
echo "${#files[@]} files formatted"
