"""official_near_winner's pruned search (graphwatch.adjacency.reach with last= and near=): the last level
kept only for the targets and each level before it only near enough to one, yet every entry it finds
for a target — its distance, its parent, the relationship it came by, so its path — is the
one graphwatch.adjacency.reach finds (issue 15: 1.2 s -> 0.35 s at 5 M persons, same rows)."""

from __future__ import annotations


def test_the_pruned_search_finds_the_targets_as_reach_does(tmp_path):
    import duckdb
    import numpy as np

    from graphwatch.adjacency import build, open_index, reach
    from graphwatch.alerts.algorithms import _near

    rng = np.random.default_rng(23)
    n = 4000                                                # sparse: most nodes far from a target
    src, dst = rng.integers(0, 3000, n), rng.integers(0, 3000, n)
    src[:150] = 11                                          # a hub
    dst[150:160] = src[150:160]                             # self-loops
    src[160:180], dst[160:180] = src[180:200], dst[180:200]  # parallel relationships
    types = np.array(["SPOUSE_OF", "SHAREHOLDER_OF", "APPROVED", "HOLDS_POST"])[
        rng.choice(4, n, p=[0.42, 0.42, 0.1, 0.06])]
    con = duckdb.connect()
    con.execute("CREATE TABLE rel (rid BIGINT, type VARCHAR, src BIGINT, dst BIGINT, valid_from DATE, valid_to DATE)")
    # relationship ids out of the order of their rows: ties between paths go to the lower id
    rids = rng.permutation(n) * 7 + 5
    con.executemany("INSERT INTO rel VALUES (?, ?, ?, ?, NULL, NULL)",
                    [(int(r), str(t), int(a), int(b)) for r, t, a, b in zip(rids, types, src, dst)])
    build(con, tmp_path / "adjacency")
    adj = open_index(con, tmp_path)
    sources = np.unique(rng.integers(0, len(adj.nodes), 60))
    targets = np.zeros(len(adj.nodes), dtype=bool)
    targets[adj.index_of(np.unique(src[types == "HOLDS_POST"]))] = True
    mask = adj.type_mask(["SPOUSE_OF", "SHAREHOLDER_OF"])
    near = [_near(adj, mask, "out", "HOLDS_POST", k) for k in range(4)]
    assert np.array_equal(near[0], targets)
    for inner, outer in zip(near, near[1:]):           # each radius holds the one inside it, and more
        assert np.array_equal(outer & inner, inner) and outer.sum() > inner.sum()
    assert near[2].sum() < 0.8 * len(adj.nodes)        # and not everything: the pruning prunes
    for hops in (1, 2, 3, 4):
        full = reach(adj, sources, "both", mask, hops)
        mine = reach(adj, sources, "both", mask, hops, last=targets, near=lambda k: near[k])
        assert hops == 1 or len(mine.node) < len(full.node)
        want = np.flatnonzero(targets[full.node])
        got = np.flatnonzero(targets[mine.node])
        assert len(want) and len(got) == len(want)
        key = lambda f, e: sorted(zip(f.source[e].tolist(), f.node[e].tolist(), f.depth[e].tolist()))  # noqa: E731
        assert key(full, want) == key(mine, got)
        paths = {(int(full.source[e]), int(full.node[e])): full.path(int(e)) for e in want}
        for e in got:
            assert mine.path(int(e)) == paths[int(mine.source[e]), int(mine.node[e])]
        # and without the pruning of the level before the last, the same again
        plain = reach(adj, sources, "both", mask, hops, last=targets)
        assert key(plain, np.flatnonzero(targets[plain.node])) == key(full, want)
