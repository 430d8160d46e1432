"""2-hop neighbourhoods (limit 500, as the CLI) before and after the hub-aware walk, in one
process on one graph with the same starts: 20 random persons and up to 20 persons two hops from a
hub (a vertex of more than 4,096 entries: benefit programmes, organisations). "Before" is
``graphwatch/analytics/traverse.py`` as of commit d141135, read from git; the answers of the two
are compared too.

Usage::

    .venv/bin/python benchmarks/bench_hub_walks.py benchmarks/work/ws_5000000
"""
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from graphwatch.analytics import load_graph, neighbours

BEFORE = "d141135"
REPO = Path(__file__).resolve().parent.parent
source = subprocess.run(["git", "-C", str(REPO), "show", f"{BEFORE}:graphwatch/analytics/traverse.py"],
                        capture_output=True, text=True, check=True).stdout
source = source.replace("from ..exc import", "from graphwatch.exc import").replace(
    "from .graph import", "from graphwatch.analytics.graph import")
with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
    f.write(source)
spec = importlib.util.spec_from_file_location("traverse_before", f.name)
old = importlib.util.module_from_spec(spec)
spec.loader.exec_module(old)
os.unlink(f.name)
g = load_graph(sys.argv[1])
print(f"commit before {BEFORE}; load average {os.getloadavg()[0]:.1f}")
rng = np.random.default_rng(7)
bit = np.uint64(1 << g.labels.index("Person"))
lb = np.asarray(g.label_bits)
persons = np.flatnonzero((lb & bit) != 0)
deg = np.diff(np.asarray(g.offsets))
hubs = np.flatnonzero(deg > 4096)
print(len(hubs), "hubs; largest", int(deg.max()), "entries")
picked = []
for h in rng.choice(hubs, 20):
    a = int(g.offsets[h]) + int(rng.integers(deg[h]))
    v = int(g.adj_vertex[a])                  # a benefit, an employment …: its persons are 2 hops from the hub
    b, e = int(g.offsets[v]), int(g.offsets[v + 1])
    near = np.asarray(g.adj_vertex[b:e])
    near = near[(lb[near] & bit) != 0]
    if len(near):
        picked.append(int(near[0]))
groups = {"random persons": [int(x) for x in rng.choice(persons, 20, replace=False)], "persons two hops from a hub": picked}
p90 = lambda v: sorted(v)[min(len(v) - 1, int(0.9 * len(v)))] * 1000
for name, starts in groups.items():
    for label, fn in (("before", old.neighbours), ("after", neighbours)):
        fn(g, starts[0], hops=2)
        c, n = [], []
        for s in starts:
            b = time.process_time(); df = fn(g, s, hops=2, limit=500); c.append(time.process_time() - b); n.append(len(df))
        print(f"{name} ({len(starts)}), {label}: CPU {statistics.median(c)*1000:.1f} / {p90(c):.1f} ms median / p90, max {max(c)*1000:.1f}; median {statistics.median(n)} nodes", flush=True)
    for s in starts:
        a, b = neighbours(g, s, hops=2, limit=500), old.neighbours(g, s, hops=2, limit=500)
        pd.testing.assert_frame_equal(a, b)
        assert a.attrs["truncated"] == b.attrs["truncated"] and sorted(a.attrs["rels"]) == sorted(b.attrs["rels"])
    print("  same answers", flush=True)
print(f"load average {os.getloadavg()[0]:.1f}")
