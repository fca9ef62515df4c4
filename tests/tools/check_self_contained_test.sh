#!/usr/bin/env bash
# tools/check-self-contained on trees made here: it passes a clean tree, and
# fails on each kind of reference to a document outside the repository,
# naming the file and line; fuzzer inputs, binary files and (in a git work
# tree) ignored files are not read. The forbidden words are put together at
# run time, so this file itself passes the check.
set -uo pipefail

checker="${TEST_SRCDIR}/${TEST_WORKSPACE}/tools/check-self-contained"
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/selfcontained.XXXXXX")
# Keep git from finding a repository above the trees made here.
export GIT_CEILING_DIRECTORIES="$work"

S=SPEC
shared_path="../sha""red/design/notes.md"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# new_tree NAME: an empty tree with a few harmless files.
new_tree() {
  local dir="$work/$1"
  mkdir -p "$dir/server" "$dir/docs" "$dir/fuzz/corpus/x" "$dir/fuzz/regressions/x"
  printf '%s\n' '// See docs/protocol.md, section "Claiming".' \
    'hints.ai_family = AF_UNSPEC;' 'a specification, in spec' >"$dir/server/a.h"
  printf '%s\n' '# Development' 'Read docs/architecture.md.' >"$dir/docs/development.md"
  echo "$dir"
}

# expect_pass DIR WHAT
expect_pass() {
  local out
  if ! out=$("$checker" "$1" 2>&1); then fail "$2: expected a pass, got: $out"; fi
}

# expect_hit DIR WHAT FILE:LINE
expect_hit() {
  local out rc
  out=$("$checker" "$1" 2>/dev/null); rc=$?
  [ "$rc" -eq 1 ] || fail "$2: expected exit 1, got $rc"
  grep -q "^$3:" <<<"$out" || fail "$2: expected a hit at $3, got: $out"
}

clean=$(new_tree clean)
expect_pass "$clean" "clean tree"

n=0
for text in "see $shared_path" "($S section 4)" "($S sections 2 and 3)" \
            "the defaults of $S 3" "the steps of ${S}4" "design in $S.md" \
            "see STYLE"".md"; do
  n=$((n + 1))
  dir=$(new_tree "hit$n")
  printf '%s\n' 'first line' "// $text" >"$dir/server/b.cc"
  expect_hit "$dir" "'$text'" "server/b.cc:2"
done

dir=$(new_tree fuzz)
printf '%s\n' "$S.md" >"$dir/fuzz/corpus/x/seed"
printf '%s\n' "$shared_path" >"$dir/fuzz/regressions/x/crash"
expect_pass "$dir" "fuzzer inputs"

dir=$(new_tree binary)
printf 'a\0b %s.md\n' "$S" >"$dir/server/blob.bin"
expect_pass "$dir" "binary file"

dir=$(new_tree nested)
mkdir -p "$dir/tools/devcloud"
printf '%s\n' "x" "y" "The cloud side ($S section 6)." >"$dir/tools/devcloud/README.md"
expect_hit "$dir" "nested file" "tools/devcloud/README.md:3"

if command -v git >/dev/null 2>&1; then
  dir=$(new_tree git)
  (
    cd "$dir" && git init -q . && echo 'ignored.txt' >.gitignore &&
      git add -A && git -c user.name=t -c user.email=t@t commit -q -m init
  ) || fail "git set-up"
  expect_pass "$dir" "git tree"
  printf '%s\n' "$S.md" >"$dir/ignored.txt"
  expect_pass "$dir" "ignored file in a git tree"
  printf '%s\n' "$S.md" >"$dir/docs/new.md"
  expect_hit "$dir" "untracked file in a git tree" "docs/new.md:1"
fi

rm -rf "$work"
if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
