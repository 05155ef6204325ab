#!/usr/bin/env bash
# Mutation runs over the languages and codecs issue 10.13 names: mutmut flips each operator,
# constant and condition of a module and runs the tests that cover it; a mutant the tests do
# not notice "survives". Too slow for every submission, so it is not in .ci/run; run it after
# changing these modules and record the scores in docs/mutation.md.
#
#   bash scripts/mutation.sh                  # every target, one after the other
#   bash scripts/mutation.sh tree rowdiff     # some targets
#   TESTS="tests/x.py" bash scripts/mutation.sh auth   # override a target's tests
#
# Targets (module -> the tests that exercise it; each target runs in its own scratch copy of
# HEAD, restricted to its own tests so it finishes):
#   kpi      src/keel/core/kpi.py
#   filter   src/keel/tracking/filter.py
#   auth     src/keel/auth/*.py
#   tree     src/keel/artifacts/tree.py          (the tree manifest codec)
#   rowdiff  src/keel/datasets/rowdiff.py        (keyed row diff of two table versions)
#   copy     src/keel/store/engine.py, only Store.insert_many (the COPY branch needs
#            KEEL_TEST_POSTGRES; without it the target is skipped)
#
# Scores and the survivors judged equivalent: docs/mutation.md.
#
# mutmut lives in its own venv (never a Keel dependency); it reaches Keel's dependencies
# through a .pth line pointing at .venv. The run happens in a copy of HEAD, never in the
# working tree, because mutmut rewrites the files it mutates. Prefix with `nice -n 10` on a
# shared machine.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BASE="${WORK:-$(mktemp -d /tmp/keel-mutation.XXXXXX)}"
VENV="${MUTATION_VENV:-$ROOT/benchmarks/.venv-mutation}"
# The remote backend starts a server subprocess that cannot import the mutated copy.
SKIP="not remote and not server and not settings"

if [ ! -x "$VENV/bin/mutmut" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "mutmut==3.8.1"
fi
site="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
"$ROOT/.venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' > "$site/keel_deps.pth"

toml_list() { printf '"%s", ' "$@" | sed 's/, $//'; }

# target -> modules | tests | mutant-name pattern ("" for all) | needs PostgreSQL (1/0)
spec() {
    case "$1" in
    kpi) echo "src/keel/core/kpi.py|tests/core/test_kpi.py tests/core/test_kpi_properties.py||0" ;;
    filter) echo "src/keel/tracking/filter.py|tests/tracking/test_filter.py tests/tracking/test_filter_limits.py tests/tracking/test_filter_messages.py||0" ;;
    auth) echo "$(cd "$ROOT" && echo src/keel/auth/*.py)|tests/auth||0" ;;
    tree) echo "src/keel/artifacts/tree.py|tests/artifacts/test_tree_codec.py tests/artifacts/test_tree_rules.py tests/artifacts/test_trees.py||0" ;;
    rowdiff) echo "src/keel/datasets/rowdiff.py|tests/datasets/test_rowdiff.py||0" ;;
    copy) echo "src/keel/store/engine.py|tests/store/test_insert_many.py|keel.store.engine.xǁStoreǁinsert_many*|1" ;;
    *) echo "unknown target: $1" >&2; return 1 ;;
    esac
}

run_target() {
    local target="$1" modules tests pattern postgres work
    IFS='|' read -r modules tests pattern postgres <<< "$(spec "$target")"
    tests="${TESTS:-$tests}"
    if [ "$postgres" = 1 ] && [ -z "${KEEL_TEST_POSTGRES:-}" ]; then
        echo "== $target: skipped (set KEEL_TEST_POSTGRES)"
        return 0
    fi
    work="$BASE/$target"
    mkdir -p "$work"
    git -C "$ROOT" archive HEAD | tar -x -C "$work"
    local skip="$SKIP"
    [ "$postgres" = 1 ] || skip="$skip and not postgres"
    # shellcheck disable=SC2086
    cat >> "$work/pyproject.toml" <<EOF

[tool.mutmut]
paths_to_mutate = [$(toml_list $modules)]
tests_dir = [$(toml_list $tests)]
also_copy = ["src", "tests"]
pytest_add_cli_args = ["-p", "no:cacheprovider", "--timeout=120", "-k", "$skip"]
EOF
    (
        cd "$work"
        if [ "$postgres" = 1 ]; then
            # shellcheck disable=SC2086
            "$VENV/bin/mutmut" run --max-children "${JOBS:-2}" $pattern > mutmut-run.log 2>&1 || true
        else
            # shellcheck disable=SC2086
            env -u KEEL_TEST_POSTGRES "$VENV/bin/mutmut" run --max-children "${JOBS:-2}" $pattern > mutmut-run.log 2>&1 || true
        fi
        "$VENV/bin/mutmut" results --all true > mutmut-results.txt 2>&1 || true
        if [ -n "$pattern" ]; then
            grep -F "${pattern%\*}" mutmut-results.txt > mutmut-selected.txt || true
            mv mutmut-selected.txt mutmut-results.txt
        fi
        local killed timeout total
        killed=$(grep -c '__mutmut_[0-9]*: killed$' mutmut-results.txt || true)
        timeout=$(grep -c '__mutmut_[0-9]*: timeout$' mutmut-results.txt || true)
        total=$(grep -c '__mutmut_[0-9]*: ' mutmut-results.txt || true)
        # A timeout is a mutant under which the tests ran past mutmut's limit (a hang or a crawl): noticed.
        echo "== $target: mutants: $total, killed: $killed, timed out: $timeout"
        grep '__mutmut_[0-9]*: ' mutmut-results.txt | grep -v ': killed$' || true
        echo "details: $work (mutmut show <name> there prints a mutant's diff)"
    )
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(kpi filter auth tree rowdiff copy)
for target in "${targets[@]}"; do
    run_target "$target"
done
