# shellcheck shell=bash
# Helpers shared by the setup scripts (sourced; SAY_AS names the script in messages).

say() { echo "${SAY_AS:-setup}: $*" >&2; }

# Runs a noisy installer, showing its output only when it fails.
quietly() {
  local log
  log=$(mktemp)
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"; say "failed: $*"; exit 1
  fi
  rm -f "$log"
}
