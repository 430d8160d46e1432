"""Summarise load_sql_cpu.py runs: CPU seconds per load phase, median over the JSON files given
per label.   python benchmarks/load_phases.py old=work/sqlcpu_*_b81cbb7_*.json new=work/sqlcpu_*_d141135_*.json"""

from __future__ import annotations

import glob
import json
import statistics
import sys

CATS = ["stage SQL", "conflicts", "node_record insert", "rel insert", "node build", "derive",
        "checkpoint", "other SQL", "adjacency", "python", "total"]


def category(where: str, sql: str) -> str:
    if where.startswith("close") or sql.startswith("COMMIT"):
        return "checkpoint"
    if sql.startswith("INSERT INTO rel (rid, type, src, dst, valid_from"):
        return "rel insert"
    if sql.startswith("INSERT INTO node_record"):
        return "node_record insert"
    if "_conflict" in sql or "_dup" in sql:
        return "conflicts"
    if "insert_nodes" in where or "_materialise" in where:
        return "node build"
    if "derive" in where:
        return "derive"
    if "adjacency" in where:
        return "adjacency"
    return "stage SQL" if "pipeline.py" in where else "other SQL"


def phases(path: str) -> dict[str, float]:
    d = json.load(open(path))
    acc = dict.fromkeys(CATS, 0.0)
    for where, (_, cpu, *_, sql) in d["sql"].items():
        acc[category(where, sql)] += cpu
    # the index is built in numpy after a fetch: its phase time holds its SQL too
    acc["adjacency"] = max(acc["adjacency"], d["phases"].get("graphwatch.adjacency.refresh", [0, 0.0])[1])
    acc["total"] = d["total"]
    acc["python"] = d["total"] - sum(acc[c] for c in CATS[:-2])
    return acc


def main() -> None:
    print("| code | runs | " + " | ".join(CATS) + " |")
    print("|---|---:|" + "---:|" * len(CATS))
    for arg in sys.argv[1:]:
        label, pattern = arg.split("=", 1)
        runs = [phases(p) for p in sorted(glob.glob(pattern))]
        if runs:
            print(f"| {label} | {len(runs)} | "
                  + " | ".join(f"{statistics.median(r[c] for r in runs):.2f}" for c in CATS) + " |")


if __name__ == "__main__":
    main()
