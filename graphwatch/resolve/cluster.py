"""Step 3 of resolution, *cluster*: which units are one entity (``er_member``).

Union-find over, in this order, shared valid IDs, the sole holder of a name in a village,
model pairs at or above the merge threshold from the most to the least likely, then "same"
judgements in the order they were made. Two clusters never join if they hold different
valid IDs or any "not same" judgement between their records, so a chain A~B~C cannot join
A and C that way. A record without a valid ID that matches records of two different ID
holders is *ambiguous*: its pairs go to review instead.

The sole holder of a name in a village is the record's person only if nobody else could
be: a record whose scored pairs (all at or above the review threshold) reach a record of
*another* ID holder — a homophone or one-character typo of the name in the same village
(李佳雨 on a roll, 李佳宇 and 李佳雨 both registered there) — is *in doubt*: the village rule
does not join it; the model still may, at or above the merge threshold, and its pairs
stay review pairs (``SAME_AS``) otherwise.

"Same" judgements come last so that they join *entities* as the reviewer saw them: a
record the village's registry or the model tied to one ID holder is that person's, and a
"same" between it and a record of another ID holder's entity is kept but joins nothing
(two different valid IDs), whatever order the records rank in. Record a "not same" against
the link that is wrong, and the "same" then applies.

Units sharing a valid ID are grouped in SQL first (one group per ID, its first holder by
rank); union-find only sees groups that take part in a union.

A load re-clusters only some units (``dirty``, :mod:`.incremental`): every other unit keeps
its entity, and each such entity takes part in unions as one group holding its ID; only
unions that touch a dirty unit are made again. Entities nothing touched keep their names.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

#: what :meth:`Clusters.union` says happened
MERGED, ALREADY_ONE, DIFFERENT_IDS, NOT_SAME_JUDGEMENT = "merged", "same", "ids", "judgement"


@dataclass
class ClusterCounts:
    """What clustering one label did (added into :class:`~graphwatch.resolve.resolver.ResolveReport`)."""
    entities: int = 0
    merged_by_id: int = 0
    merged_by_village: int = 0
    village_doubt: int = 0       # sole holder of the name, but another ID holder matches too
    merged_by_model: int = 0
    ambiguous: int = 0
    blocked_by_ids: int = 0
    blocked_by_judgement: int = 0


class Clusters:
    """Union-find over groups with cannot-link constraints (different valid IDs, "not same").

    Only groups that take part in a union are stored; a group is its own root otherwise.
    """

    def __init__(self, forbid: dict[int, set[int]]):
        self.parent: dict[int, int] = {}
        self.ids: dict[int, set] = {}
        self.forbid = forbid   # root -> groups it must never join

    def find(self, group: int) -> int:
        parent = self.parent
        root = group
        while root in parent:
            root = parent[root]
        while group in parent and parent[group] != root:   # path compression
            parent[group], group = root, parent[group]
        return root

    def union(self, a: int, b: int, id_a=None, id_b=None) -> str:
        """Join the clusters of ``a`` and ``b`` unless a constraint forbids it; returns
        ``MERGED``, ``ALREADY_ONE``, ``DIFFERENT_IDS`` or ``NOT_SAME_JUDGEMENT``.
        ``id_a``/``id_b``: the ID each group holds (read the first time a group is seen)."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ALREADY_ONE
        ia = self.ids.setdefault(ra, {id_a} if id_a else set())
        ib = self.ids.setdefault(rb, {id_b} if id_b else set())
        if ia and ib and ia != ib:
            return DIFFERENT_IDS
        fa, fb = self.forbid.get(ra, ()), self.forbid.get(rb, ())
        if any(self.find(x) == rb for x in fa) or any(self.find(x) == ra for x in fb):
            return NOT_SAME_JUDGEMENT
        self.parent[rb] = ra
        self.ids[ra] = ia | ib
        del self.ids[rb]
        if fb:
            self.forbid[ra] = set(fa) | set(self.forbid.pop(rb))
        return MERGED


def latest_judgements(con, label: str) -> list[tuple[int, int, str]]:
    """``(unit a, unit b, judgement)`` of every judged pair of ``label``, the latest judgement
    of each pair, in the order they were made."""
    return con.execute("""SELECT j.a, j.b, arg_max(j.judgement, j.judged_at) FROM er_judgement j
        JOIN er_unit ua ON ua.unit = j.a JOIN er_unit ub ON ub.unit = j.b
        WHERE ua.label = $l AND ub.label = $l GROUP BY j.a, j.b ORDER BY max(j.judged_at), j.a, j.b""",
                       {"l": label}).fetchall()


def ambiguous_units_sql(merge_param: str = "$m") -> str:
    """A SELECT of the person units without a valid ID whose pairs at or above the merge
    threshold reach records of two different ID holders (column ``u``)."""
    return f"""WITH e AS (SELECT p.a, p.b, ua.id_usable AS ia, ub.id_usable AS ib FROM er_pair p
                    JOIN er_unit ua ON ua.unit = p.a JOIN er_unit ub ON ub.unit = p.b
                    WHERE p.probability >= {merge_param} AND ua.label = 'Person' AND ub.label = 'Person'),
              side AS (SELECT a AS u, ib AS other FROM e WHERE ia IS NULL AND ib IS NOT NULL
                       UNION ALL SELECT b, ia FROM e WHERE ib IS NULL AND ia IS NOT NULL)
        SELECT u FROM side GROUP BY u HAVING count(DISTINCT other) > 1"""


def village_doubt_sql() -> str:
    """A SELECT of the person units the village rule must not join (column ``u``): units
    with a sole holder of their name in their village, a stored pair of which reaches a
    record of another ID holder — its own valid ID, or the sole holder of *its* name in
    its village. Every stored pair is at or above the review threshold it was scored with
    (:func:`graphwatch.resolve.score.score_pairs`): the model finds the other holder
    plausible, so the name in the village no longer tells who the record is."""
    return """WITH side AS (SELECT a AS u, b AS o FROM er_pair UNION ALL SELECT b, a FROM er_pair)
        SELECT DISTINCT s.u FROM side s JOIN er_unit uu ON uu.unit = s.u JOIN er_unit uo ON uo.unit = s.o
        WHERE uu.label = 'Person' AND uo.label = 'Person' AND uu.sole_in_village IS NOT NULL
          AND coalesce(uo.id_usable, uo.sole_in_village) <> uu.sole_in_village"""


def cluster(con, label: str, merge: float, *, dirty: str | None = None) -> ClusterCounts:
    """Assign units of ``label`` to entities (``er_member``); marks ``er_pair`` rows
    ``ambiguous`` or ``blocked`` where a constraint kept a model pair apart.

    ``dirty``: a table (column ``unit``) of the units to cluster again; the others keep
    their entities (``None``: cluster every unit from scratch).
    """
    counts = ClusterCounts()
    judged = latest_judgements(con, label)
    judged_not_same = sorted({u for a, b, j in judged if j == "not_same" for u in (a, b)})
    # groups: an entity nothing touched is one group (fixed); the other units sharing a valid ID
    # are one group (its first holder by rank), except the holders of an ID some holder of which
    # was judged "not same": those go through union-find. gid: the ID a group holds
    fixed = f"m.entity IS NOT NULL AND e.unit NOT IN (SELECT unit FROM {dirty})" if dirty else "false"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _er_units AS
        SELECT e.unit, e.rank, e.key, e.ref, e.id_usable, m.entity, {fixed} AS fixed,
               e.id_usable IN (SELECT id_usable FROM er_unit WHERE unit IN (SELECT unnest($nots))) AS excl
        FROM er_unit e LEFT JOIN er_member m USING (unit) WHERE e.label = $l""",
                {"l": label, "nots": judged_not_same})
    con.execute("""CREATE OR REPLACE TEMP TABLE _er_id_groups AS
        WITH kept AS (SELECT entity, arg_min(unit, rank) AS grp, max(id_usable) AS gid FROM _er_units
                      WHERE fixed GROUP BY entity),
             by_id AS (SELECT id_usable, arg_min(unit, rank) AS grp FROM _er_units
                       WHERE NOT fixed AND id_usable IS NOT NULL AND NOT coalesce(excl, false) GROUP BY id_usable)
        SELECT u.*, coalesce(k.grp, i.grp, u.unit) AS grp, CASE WHEN u.fixed THEN k.gid ELSE u.id_usable END AS gid
        FROM _er_units u LEFT JOIN kept k ON u.fixed AND k.entity = u.entity
        LEFT JOIN by_id i ON NOT u.fixed AND NOT coalesce(u.excl, false) AND i.id_usable = u.id_usable""")
    con.execute("DROP TABLE _er_units")
    merged_by_id = con.execute("SELECT count(*) FROM _er_id_groups WHERE grp <> unit AND NOT fixed").fetchone()[0]
    group_of = dict(con.execute("SELECT unit, grp FROM _er_id_groups WHERE unit IN (SELECT unnest(?))",
                                [judged_not_same]).fetchall())
    forbid: dict[int, set[int]] = {}
    for a, b, j in judged:
        if j == "not_same" and a in group_of and b in group_of:
            forbid.setdefault(group_of[a], set()).add(group_of[b])
            forbid.setdefault(group_of[b], set()).add(group_of[a])
    clusters = Clusters(forbid)

    def unions(sql: str, params=None) -> list[tuple[str, int, int]]:
        out = []
        for a, b, ga, gb, ia, ib in con.execute(sql, params or {}).fetchall():
            out.append((clusters.union(ga, gb, ia, ib), a, b))
        return out

    # only unions that touch a unit being clustered (all of them without ``dirty``)
    edge = """SELECT e.a, e.b, ga.grp, gb.grp, ga.gid, gb.gid FROM ({}) e
              JOIN _er_id_groups ga ON ga.unit = e.a JOIN _er_id_groups gb ON gb.unit = e.b
              WHERE NOT (ga.fixed AND gb.fixed) ORDER BY e.ord"""
    # every group holding an ID joins the group of the ID's first holder, if allowed: groups
    # with a "not same" among the ID's holders, and (in a load) new holders of a kept entity's ID
    for r, *_ in unions(edge.format("""SELECT f.first AS a, g.grp AS b, g.rank AS ord
            FROM (SELECT grp, gid, min(rank) AS rank FROM _er_id_groups WHERE gid IS NOT NULL GROUP BY ALL) g
            JOIN (SELECT id_usable, arg_min(unit, rank) AS first FROM _er_id_groups WHERE id_usable IS NOT NULL
                  GROUP BY ALL) f ON f.id_usable = g.gid
            WHERE g.grp <> f.first AND g.gid IN (SELECT id_usable FROM _er_id_groups WHERE NOT fixed)""")):
        merged_by_id += r == MERGED
        counts.blocked_by_judgement += r == NOT_SAME_JUDGEMENT
    counts.merged_by_id += merged_by_id
    if label == "Person":
        # the sole holder of the name in the village: join the holder's first record, unless
        # the model finds another ID holder plausible for the record too (in doubt)
        con.execute(f"CREATE OR REPLACE TEMP TABLE _er_village_doubt AS {village_doubt_sql()}")
        counts.village_doubt = con.execute("SELECT count(*) FROM _er_village_doubt").fetchone()[0]
        for r, *_ in unions(edge.format("""SELECT o.owner AS a, u.unit AS b, u.rank AS ord FROM er_unit u
                JOIN (SELECT id_usable, arg_min(unit, rank) AS owner FROM _er_id_groups
                      WHERE id_usable IS NOT NULL GROUP BY ALL) o ON o.id_usable = u.sole_in_village
                WHERE u.label = 'Person' AND u.unit NOT IN (SELECT u FROM _er_village_doubt)""")):
            counts.merged_by_village += r == MERGED
            counts.blocked_by_judgement += r == NOT_SAME_JUDGEMENT
        con.execute("DROP TABLE _er_village_doubt")
        # ambiguous: a record without a valid ID that matches holders of two different IDs
        touching = "" if dirty is None else f"""AND (status = 'ambiguous' OR a IN (SELECT unit FROM {dirty})
                                                     OR b IN (SELECT unit FROM {dirty}))"""
        con.execute(f"UPDATE er_pair SET status = 'model' WHERE status <> 'model' {touching}")
        counts.ambiguous = con.execute(f"""WITH amb AS ({ambiguous_units_sql()}) UPDATE er_pair SET status = 'ambiguous'
            WHERE probability >= $m AND (a IN (SELECT u FROM amb) OR b IN (SELECT u FROM amb))""",
                                       {"m": merge}).fetchone()[0]
        blocked = []
        for r, a, b in unions(edge.format("""SELECT a, b, row_number() OVER (ORDER BY probability DESC, a, b) AS ord
                                             FROM er_pair WHERE probability >= $m AND status = 'model'"""),
                              {"m": merge}):
            counts.merged_by_model += r == MERGED
            counts.blocked_by_ids += r == DIFFERENT_IDS
            counts.blocked_by_judgement += r == NOT_SAME_JUDGEMENT
            if r in (DIFFERENT_IDS, NOT_SAME_JUDGEMENT):
                blocked.append((a, b))
        if blocked:
            con.execute("UPDATE er_pair SET status = 'blocked' WHERE (a, b) IN (SELECT unnest(?), unnest(?))",
                        [[a for a, _ in blocked], [b for _, b in blocked]])
    if judged:   # "same" wins over the model, but not over two different valid IDs
        con.complete()
        same = [(a, b) for a, b, j in judged if j == "same"]   # in the order they were made
        con.register("_er_same_judgements", pa.table(
            {"a": [a for a, _ in same], "b": [b for _, b in same], "ord": list(range(len(same)))},
            schema=pa.schema([("a", pa.int64()), ("b", pa.int64()), ("ord", pa.int64())])))
        counts.blocked_by_ids += sum(r == DIFFERENT_IDS
                                     for r, *_ in unions(edge.format("SELECT a, b, ord FROM _er_same_judgements")))
        con.unregister("_er_same_judgements")
    _name_entities(con, label, clusters, incremental=dirty is not None)
    counts.entities = con.execute("""SELECT count(DISTINCT entity) FROM er_member
                                     WHERE unit IN (SELECT unit FROM _er_id_groups)""").fetchone()[0]
    con.execute("DROP TABLE _er_id_groups")
    return counts


def _name_entities(con, label: str, clusters: Clusters, *, incremental: bool) -> None:
    """Write ``er_member`` for the clusters: the cluster holding an ID's first holder is
    ``<Label>:<ID>``; others take their first '@' record key (or one made from their first
    record); a clash gets ~2, ~3 … In a load, entities nothing touched keep their names, and
    a touched cluster that keeps an entity without an ID of its own keeps that entity's name."""
    touched = list(clusters.parent)
    con.complete()
    con.register("_er_roots", pa.table({"grp": pa.array(touched, pa.int64()),
                                        "root": pa.array([clusters.find(g) for g in touched], pa.int64())}))
    prefix = label + ":"
    # a cluster is touched if it holds a unit clustered again or took part in a union
    con.execute("""CREATE OR REPLACE TEMP TABLE _er_clustered AS
        WITH e AS (SELECT g.*, coalesce(r.root, g.grp) AS root FROM _er_id_groups g LEFT JOIN _er_roots r USING (grp)),
             t AS (SELECT root FROM _er_roots UNION SELECT root FROM e WHERE NOT fixed)
        SELECT e.*, e.root IN (SELECT root FROM t) AS touched FROM e""")
    con.unregister("_er_roots")
    con.execute("""CREATE OR REPLACE TEMP TABLE _er_cluster_names AS
        WITH own AS (SELECT arg_min(unit, rank) AS owner FROM _er_clustered WHERE id_usable IS NOT NULL
                     GROUP BY id_usable)
        SELECT root, min(rank) AS first,
               coalesce(max(CASE WHEN unit IN (SELECT owner FROM own) THEN $p || id_usable END),
                        CASE WHEN $keep THEN arg_min(entity, rank) FILTER (WHERE fixed) END,
                        min(CASE WHEN starts_with(key, $p || '@') THEN key END),
                        $p || '@' || min(ref)) AS base
        FROM _er_clustered WHERE touched GROUP BY root""", {"p": prefix, "keep": incremental})
    if incremental:
        # names kept by entities nothing touched are taken; a touched cluster gets its base or
        # the next free ~k
        taken = {r[0] for r in con.execute("""SELECT DISTINCT entity FROM _er_clustered WHERE NOT touched
            AND regexp_replace(entity, '~[0-9]+$', '') IN (SELECT base FROM _er_cluster_names)""").fetchall()}
        names = []
        for root, base in con.execute("SELECT root, base FROM _er_cluster_names ORDER BY first").fetchall():
            name, k = base, 1
            while name in taken:
                k += 1
                name = f"{base}~{k}"
            taken.add(name)
            names.append((root, name))
        con.execute("CREATE OR REPLACE TEMP TABLE _er_named (root BIGINT, entity VARCHAR)")
        if names:
            con.executemany("INSERT INTO _er_named VALUES (?, ?)", names)
    else:
        con.execute("""CREATE OR REPLACE TEMP TABLE _er_named AS
            SELECT root, CASE WHEN row_number() OVER w = 1 THEN base ELSE base || '~' || row_number() OVER w END
                         AS entity
            FROM _er_cluster_names WINDOW w AS (PARTITION BY base ORDER BY first)""")
    con.execute("""DELETE FROM er_member WHERE unit IN (SELECT unit FROM _er_clustered WHERE touched)
                   OR unit NOT IN (SELECT unit FROM er_unit)""")
    con.execute("""INSERT INTO er_member SELECT c.unit, n.entity FROM _er_clustered c JOIN _er_named n USING (root)
                   WHERE c.touched""")
    for t in ("_er_clustered", "_er_cluster_names", "_er_named"):
        con.execute(f"DROP TABLE {t}")
