#!/bin/bash
# CPU seconds (user + sys) and peak RSS of one `graphwatch load` at a given commit, each commit
# loading the county its own `graphwatch generate` makes (seed 1, as bench_load.py does): how
# issue 13's load bisection was measured (RESULTS.md, "Load CPU between b81cbb7 and main").
#
#   benchmarks/load_cpu.sh <commit> [loads] [persons]     e.g.  load_cpu.sh b81cbb7 2 100000
#
# The commit gets a detached worktree in benchmarks/work/probe_<sha> (remove it with
# `git worktree remove`); its code runs with the main venv's Python. With LOAD_CPU_PROFILE=1
# each load runs under load_sql_cpu.py (CPU per DuckDB statement and per phase, JSON beside it).
# Alternate commits (old, new, old, new) and compare within one run: the machine is shared.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); REPO=$(git -C "$HERE" rev-parse --show-toplevel)
PY=${PY:-$REPO/.venv/bin/python}; [ -x "$PY" ] || PY=/work/main/.venv/bin/python
sha=$(git -C "$REPO" rev-parse --short=7 "$1"); n=${2:-1}; persons=${3:-100000}
W=$HERE/work; mkdir -p "$W"; P=$W/probe_$sha; C=$W/county_${persons}_$sha; WS=$W/ws_${persons}_$sha
[ -d "$P" ] || git -C "$REPO" worktree add --detach "$P" "$sha" >/dev/null
if [ ! -f "$C/.done" ]; then
  rm -rf "$C"
  (cd "$P" && PYTHONPATH=$P "$PY" -m graphwatch.cli generate --persons "$persons" --seed 1 --out "$C" >/dev/null)
  touch "$C/.done"
fi
for i in $(seq "$n"); do
  rm -rf "$WS"; la=$(cut -d' ' -f1 /proc/loadavg)
  prof=(); [ -n "${LOAD_CPU_PROFILE:-}" ] && prof=("$HERE/load_sql_cpu.py" "$W/sqlcpu_${persons}_${sha}_$(date +%s).json")
  (cd "$P" && PYTHONPATH=$P /usr/bin/time -f "%U %S %M" -o "$W/time.txt" "$PY" ${prof[@]+"${prof[@]}"} \
      $([ ${#prof[@]} -eq 0 ] && echo "-m graphwatch.cli") load "$C" --workspace "$WS" >/dev/null)
  read -r u s m < "$W/time.txt"
  rels=$("$PY" -c "import duckdb,sys;print(duckdb.connect(sys.argv[1],read_only=True).execute('select count(*) from rel').fetchone()[0])" "$WS/graph.duckdb")
  echo "$(date -u +%H:%M:%S) $sha persons=$persons load_avg=$la cpu_s=$(echo "$u + $s" | bc) user_s=$u sys_s=$s peak_GiB=$(echo "scale=2; $m/1048576" | bc) relationships=$rels" | tee -a "$W/load_cpu.log"
done
