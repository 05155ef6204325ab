#!/usr/bin/env bash
# Mutation run over the KPI and filter languages (issue 10.13): mutmut flips each operator,
# constant and condition of the modules below and runs their tests; a mutant the tests do
# not notice "survives". Too slow for every submission (~15 min on 2 cores), so it is not in
# .ci/run; run it after changing these modules and record the score in docs/mutation.md.
#
#   bash scripts/mutation.sh            # mutate HEAD's code in a scratch copy, print the results
#   MODULES="src/keel/tracking/filter_sql.py" bash scripts/mutation.sh   # other modules
#
# mutmut lives in its own venv (never a Keel dependency); it reaches Keel's dependencies
# through a .pth line pointing at .venv. The run happens in a copy of HEAD, never in the
# working tree, because mutmut rewrites the files it mutates.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${WORK:-$(mktemp -d /tmp/keel-mutation.XXXXXX)}"
VENV="${MUTATION_VENV:-$ROOT/benchmarks/.venv-mutation}"
MODULES="${MODULES:-src/keel/core/kpi.py src/keel/tracking/filter.py}"
# The database-backed filter tests (test_filter_semantics.py) kill more, but cost ~30 s per mutant of
# the parser: add them with TESTS=... when there is an hour to spare.
TESTS="${TESTS:-tests/core/test_kpi.py tests/core/test_kpi_properties.py tests/tracking/test_filter.py tests/tracking/test_filter_limits.py tests/tracking/test_filter_messages.py}"

if [ ! -x "$VENV/bin/mutmut" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "mutmut==3.8.1"
fi
site="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
"$ROOT/.venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' > "$site/keel_deps.pth"

git -C "$ROOT" archive HEAD | tar -x -C "$WORK"
toml_list() { printf '"%s", ' "$@" | sed 's/, $//'; }
# shellcheck disable=SC2086
cat >> "$WORK/pyproject.toml" <<EOF

[tool.mutmut]
paths_to_mutate = [$(toml_list $MODULES)]
tests_dir = [$(toml_list $TESTS)]
also_copy = ["src", "tests"]
# The remote backend starts a server subprocess that cannot import the mutated copy; PostgreSQL
# adds minutes and no coverage of these modules beyond SQLite's.
pytest_add_cli_args = ["-p", "no:cacheprovider", "--timeout=120", "-k", "not remote and not postgres and not server and not settings"]
EOF

cd "$WORK"
env -u KEEL_TEST_POSTGRES "$VENV/bin/mutmut" run --max-children "${JOBS:-2}" > mutmut-run.log 2>&1 || true
"$VENV/bin/mutmut" results --all true > mutmut-results.txt 2>&1 || true
killed=$(grep -c ': killed$' mutmut-results.txt || true)
total=$(grep -c ': ' mutmut-results.txt || true)
echo "mutants: $total, killed: $killed"
grep -v ': killed$' mutmut-results.txt || true
echo "details: $WORK (mutmut show <name> there prints a mutant's diff)"
