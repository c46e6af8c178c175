#!/usr/bin/env bash
# Checks the Makefile's destroy guard without AWS or Terraform state: a stub
# terraform answers `state list`, `output` and `state show` as a deployed
# stage would, and records every other command. make destroy-guard must
# refuse a protected stage (and run nothing else), let an unprotected stage
# and DELETE_DATABASE=yes through, and refuse when it cannot tell.
#
#   scripts/test-destroy-guard.sh
set -uo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/tf" <<'STUB'
#!/usr/bin/env bash
echo "$*" >>"$STUB_LOG"
case "$1 $2" in
  "state list") [ -n "$STUB_STATE" ] && echo "$STUB_STATE" ;;
  "output -raw") [ "$3" = deletion_protected ] && [ -n "$STUB_PROTECTED" ] && { printf %s "$STUB_PROTECTED"; exit 0; }; exit 1 ;;
  "state show") [ -n "$STUB_SHOW" ] && printf '  deletion_protection = %s\n' "$STUB_SHOW" || exit 1 ;;
  *) exit 0 ;;
esac
STUB
chmod +x "$work/tf"

pass=0 fail=0
# check NAME WANT_EXIT STATE PROTECTED SHOW [make args...]
check() {
  local name=$1 want=$2
  export STUB_STATE=$3 STUB_PROTECTED=$4 STUB_SHOW=$5 STUB_LOG=$work/log
  shift 5
  : >"$STUB_LOG"
  make -s destroy-guard TF="$work/tf" "$@" >"$work/out" 2>&1
  local rc=$?
  if { [ "$want" = 0 ] && [ $rc -eq 0 ]; } || { [ "$want" != 0 ] && [ $rc -ne 0 ]; }; then
    if grep -qvE '^(state list|output -raw deletion_protected|state show -no-color aws_db_instance.main)$' "$STUB_LOG"; then
      echo "FAIL: $name: the guard ran more than reads: $(tr '\n' ';' <"$STUB_LOG")"; fail=$((fail + 1))
    else
      echo "PASS: $name (exit $rc)"; pass=$((pass + 1))
    fi
  else
    echo "FAIL: $name: exit $rc, want $want"; sed 's/^/  | /' "$work/out"; fail=$((fail + 1))
  fi
}

check "protected stage is refused" 1 aws_db_instance.main true ""
check "unprotected stage proceeds" 0 aws_db_instance.main false ""
check "DELETE_DATABASE=yes proceeds" 0 aws_db_instance.main true "" DELETE_DATABASE=yes
check "no output yet: read from state" 1 aws_db_instance.main "" true
check "no output yet, unprotected in state" 0 aws_db_instance.main "" false
check "unknown protection is refused" 1 aws_db_instance.main "" ""
check "empty state proceeds" 0 "" "" ""
grep -q 'destroy-deployment: destroy-guard zip init' Makefile && { echo "PASS: destroy-deployment runs the guard first"; pass=$((pass + 1)); } ||
  { echo "FAIL: destroy-deployment must list destroy-guard as its first prerequisite"; fail=$((fail + 1)); }

echo "destroy guard: $pass passed, $fail failed"
[ $fail -eq 0 ]
