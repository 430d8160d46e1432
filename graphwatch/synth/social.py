"""A seeded social / crime-style graph in the neo4j-admin import format, and the queries a
crime analyst asks of it: the second graph shape (besides the county) the engines are timed on.

>>> from graphwatch.synth.social import generate_social
>>> counts = generate_social("data/social", persons=100_000, seed=7)   # doctest: +SKIP

The folder loads unchanged with ``graphwatch load data/social --infer-schema -w WS`` and
reaches Neo4j with ``graphwatch neo4j push -w WS``. It holds (one CSV per file, header on
the first line, typed as ``neo4j-admin database import`` reads it):

* ``persons.csv`` — ``pid:ID(Person)``, ``:LABEL``, ``name``, ``surname``, ``age:int``
* ``locations.csv`` — ``lid:ID(Location)``, ``:LABEL``, ``address``, ``postcode`` (persons / 20)
* ``crimes.csv`` — ``cid:ID(Crime)``, ``:LABEL``, ``kind``, ``date:date``, ``charges:int[]`` (persons / 5)
* ``knows.csv`` — ``KNOWS`` between persons, ``since:int`` (a year). Degrees are heavy-tailed
  (Chung–Lu: endpoints drawn in proportion to a Pareto weight of shape 1.8), so a few hubs
  know thousands (a 1 M graph's largest hub has some thousands, the median person a handful);
  half the edges join near neighbours in id order instead, which makes triangles, so
  friends-of-friends have acquaintances in common. Cycles, both directions of a pair and
  self-loops (one person in 2 000 knows themself) are present; a pair is written once per
  direction (graphwatch's load keeps rows that repeat a relationship as one, neo4j-admin would
  keep both: unique rows mean the same graph to both).
* ``party_to.csv`` — ``PARTY_TO`` person → crime, ``role`` (suspect, victim, witness); one to
  four parties per crime, suspects drawn from a tenth of the population with a heavy tail
  (repeat offenders), so co-offender networks exist; two suspects of one crime know each
  other four times in ten (gangs).
* ``occurred_at.csv`` — ``OCCURRED_AT`` crime → location (hot spots: a heavy tail too)
* ``lives_at.csv`` — ``LIVES_AT`` person → location (every person, one address)

Why a module of the package rather than a benchmark script: the parity test
(``tests/test_social_graph.py``) and the benchmark (``benchmarks/bench_social.py``) both need
the graph and the queries, and tests import the package, not ``benchmarks/``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ..exc import GenerationError

KINDS = ["Burglary", "Robbery", "Drugs", "Vehicle crime", "Violence and sexual offences", "Public order",
         "Criminal damage and arson", "Theft from the person", "Shoplifting", "Bicycle theft"]
ROLES = ["suspect", "victim", "witness"]
SURNAMES = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Wright",
            "Walker", "Evans", "Thomas", "Roberts", "Khan", "Lewis", "Hughes", "Clarke", "Ward", "Wood"]
FIRST = ["Jack", "Oliver", "Harry", "George", "Noah", "Amelia", "Olivia", "Isla", "Emily", "Ava", "Mia",
         "Leo", "Ruby", "Grace", "Arthur", "Freya", "Oscar", "Lily", "Theo", "Ella"]
STREETS = ["High Street", "Station Road", "Church Lane", "Mill Road", "Park Avenue", "Queens Road",
           "Victoria Street", "Green Lane", "Manor Road", "Kings Road"]


def _write(path: Path, header: list[str], cols: list) -> None:
    """One CSV: the neo4j-admin header line, then the columns (written by Arrow, fast)."""
    table = pa.table({f"c{i}": c for i, c in enumerate(cols)})
    with open(path, "wb") as f:
        f.write((",".join(header) + "\n").encode())
        pacsv.write_csv(table, f, pacsv.WriteOptions(include_header=False, quoting_style="needed"))


def _ids(prefix: str, idx: np.ndarray) -> pa.Array:
    return pa.array(np.char.add(prefix, idx.astype(str)))


def _pick(rng: np.random.Generator, words: list[str], n: int) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(rng.integers(0, len(words), n), pa.int32()),
                                          pa.array(words)).cast(pa.string())


def generate_social(folder: str | Path, persons: int, seed: int = 7) -> dict[str, int]:
    """Write the graph into ``folder`` (created; must not hold CSVs already); returns how many
    nodes and relationships each file holds. The same ``persons`` and ``seed`` write the same bytes."""
    if persons < 100:
        raise GenerationError(f"persons must be at least 100, got {persons}")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    if any(out.glob("*.csv")):
        raise FileExistsError(f"{out} already holds CSV files; give an empty folder")
    rng = np.random.default_rng(seed)
    n = persons
    n_loc, n_crime = max(n // 20, 5), max(n // 5, 20)
    counts = {}

    pid = np.arange(n)
    _write(out / "persons.csv", ["pid:ID(Person)", ":LABEL", "name", "surname", "age:int"],
           [_ids("P", pid), pa.array(["Person"] * n), _pick(rng, FIRST, n), _pick(rng, SURNAMES, n),
            pa.array(rng.integers(14, 90, n))])
    counts["Person"] = n
    lid = np.arange(n_loc)
    addr = np.char.add(np.char.add(rng.integers(1, 300, n_loc).astype(str), " "),
                       np.array(STREETS)[rng.integers(0, len(STREETS), n_loc)])
    _write(out / "locations.csv", ["lid:ID(Location)", ":LABEL", "address", "postcode"],
           [_ids("L", lid), pa.array(["Location"] * n_loc), pa.array(addr),
            pa.array(np.char.add("PC", (lid // 25).astype(str)))])
    counts["Location"] = n_loc
    cid = np.arange(n_crime)
    days = rng.integers(0, 3 * 365, n_crime)
    dates = (np.datetime64("2021-01-01") + days).astype(str)
    charges = [None if k == 0 else ";".join(map(str, rng.integers(1, 40, k))) for k in rng.integers(0, 3, n_crime)]
    _write(out / "crimes.csv", ["cid:ID(Crime)", ":LABEL", "kind", "date:date", "charges:int[]"],
           [_ids("C", cid), pa.array(["Crime"] * n_crime), _pick(rng, KINDS, n_crime), pa.array(dates),
            pa.array(charges, pa.string())])
    counts["Crime"] = n_crime

    # PARTY_TO: 1–4 parties per crime; suspects from repeat offenders (a tenth, heavy-tailed)
    parties = rng.integers(1, 5, n_crime)
    crime_of = np.repeat(cid, parties)
    k = len(crime_of)
    role = rng.choice(3, k, p=[0.5, 0.35, 0.15])
    offenders = rng.choice(n, max(n // 10, 10), replace=False)
    ow = 1.0 + rng.pareto(1.5, len(offenders))
    who = np.where(role == 0, offenders[rng.choice(len(offenders), k, p=ow / ow.sum())], rng.integers(0, n, k))
    _, first = np.unique(np.stack([who, crime_of], 1), axis=0, return_index=True)   # once per person and crime
    first.sort()
    who, crime_of, role = who[first], crime_of[first], role[first]
    k = len(who)
    _write(out / "party_to.csv", [":START_ID(Person)", ":END_ID(Crime)", ":TYPE", "role"],
           [_ids("P", who), _ids("C", crime_of), pa.array(["PARTY_TO"] * k),
            pa.array(np.array(ROLES)[role])])
    counts["PARTY_TO"] = k
    # KNOWS: Chung–Lu on Pareto weights (hubs) plus near neighbours in id order (triangles)
    weight = (1.0 + rng.pareto(1.8, n)) * 2.0
    p = weight / weight.sum()
    m_random = int(weight.sum() / 2)
    src = rng.choice(n, m_random, p=p)
    dst = rng.choice(n, m_random, p=p)
    m_near = int(n * 1.5)
    a = rng.integers(0, n, m_near)
    b = (a + rng.integers(1, 30, m_near)) % n
    loops = rng.choice(n, max(n // 2000, 3), replace=False)
    # gangs: two suspects of one crime know each other, four times in ten
    same = (crime_of[1:] == crime_of[:-1]) & (role[1:] == 0) & (role[:-1] == 0) & (rng.random(k - 1) < 0.4)
    a, b = np.concatenate([a, who[:-1][same]]), np.concatenate([b, who[1:][same]])
    # one relationship per ordered pair: graphwatch's load (and so push) keeps rows that say the
    # same relationship as one, neo4j-admin would keep both; unique pairs mean the same to both
    pairs = np.unique(np.stack([np.concatenate([src, a, loops]), np.concatenate([dst, b, loops])], 1), axis=0)
    pairs = pairs[rng.permutation(len(pairs))]
    src, dst = pairs[:, 0], pairs[:, 1]
    _write(out / "knows.csv", [":START_ID(Person)", ":END_ID(Person)", ":TYPE", "since:int"],
           [_ids("P", src), _ids("P", dst), pa.array(["KNOWS"] * len(src)),
            pa.array(rng.integers(1990, 2024, len(src)))])
    counts["KNOWS"] = len(src)

    # OCCURRED_AT: hot spots
    lw = 1.0 + rng.pareto(1.2, n_loc)
    where = rng.choice(n_loc, n_crime, p=lw / lw.sum())
    _write(out / "occurred_at.csv", [":START_ID(Crime)", ":END_ID(Location)", ":TYPE"],
           [_ids("C", cid), _ids("L", where), pa.array(["OCCURRED_AT"] * n_crime)])
    counts["OCCURRED_AT"] = n_crime
    home = rng.integers(0, n_loc, n)
    _write(out / "lives_at.csv", [":START_ID(Person)", ":END_ID(Location)", ":TYPE"],
           [_ids("P", pid), _ids("L", home), pa.array(["LIVES_AT"] * n)])
    counts["LIVES_AT"] = n
    return counts


# -- what an analyst asks of it ---------------------------------------------------------------
#: name -> Cypher; parameters $a, $b (two ordinary persons, suspects who know a handful of
#: people) and $hub (the person who knows the most), chosen by :func:`pick_params`
QUERIES = {
    "friends of friends not yet known (*2..2, NOT pattern)":
        "MATCH (p:Person {pid: $a})-[:KNOWS*2..2]-(fof:Person) WHERE fof <> p AND NOT (p)-[:KNOWS]-(fof) "
        "RETURN fof.pid AS pid, count(*) AS mutual ORDER BY mutual DESC, pid LIMIT 20",
    "friends and their friends who are suspects (*1..2, EXISTS)":
        "MATCH (p:Person {pid: $a})-[:KNOWS*1..2]-(f:Person) WHERE f <> p "
        "AND EXISTS { (f)-[:PARTY_TO {role: 'suspect'}]->(:Crime) } RETURN count(DISTINCT f) AS suspects",
    "co-offenders of a person":
        "MATCH (p:Person {pid: $a})-[:PARTY_TO {role: 'suspect'}]->(c:Crime)<-[:PARTY_TO {role: 'suspect'}]-(o:Person) "
        "WHERE o <> p RETURN o.pid AS pid, count(c) AS crimes ORDER BY crimes DESC, pid",
    "co-offender pairs who know each other (all crimes)":
        "MATCH (s1:Person)-[:PARTY_TO {role: 'suspect'}]->(c:Crime)<-[:PARTY_TO {role: 'suspect'}]-(s2:Person) "
        "WHERE s1.pid < s2.pid AND (s1)-[:KNOWS]-(s2) RETURN count(*) AS pairs",
    "people party to crimes at the same locations":
        "MATCH (p:Person {pid: $a})-[:PARTY_TO]->(:Crime)-[:OCCURRED_AT]->(l:Location)"
        "<-[:OCCURRED_AT]-(:Crime)<-[:PARTY_TO]-(o:Person) WHERE o <> p "
        "RETURN count(DISTINCT o) AS people, count(DISTINCT l) AS locations",
    "shortestPath over KNOWS (*..6)":
        "MATCH (a:Person {pid: $a}), (b:Person {pid: $b}) MATCH p = shortestPath((a)-[:KNOWS*..6]-(b)) "
        "RETURN length(p) AS hops",
    "allShortestPaths over KNOWS (*..6), counted":
        "MATCH (a:Person {pid: $a}), (b:Person {pid: $b}) MATCH p = allShortestPaths((a)-[:KNOWS*..6]-(b)) "
        "RETURN length(p) AS hops, count(p) AS paths",
    "shortestPath over any type (*..6)":
        "MATCH (a:Person {pid: $a}), (b:Person {pid: $b}) MATCH p = shortestPath((a)-[*..6]-(b)) "
        "RETURN length(p) AS hops",
    "allShortestPaths over any type (*..6), counted":
        "MATCH (a:Person {pid: $a}), (b:Person {pid: $b}) MATCH p = allShortestPaths((a)-[*..6]-(b)) "
        "RETURN length(p) AS hops, count(p) AS paths",
    "2-hop KNOWS neighbourhood of the biggest hub":
        "MATCH (h:Person {pid: $hub})-[:KNOWS*1..2]-(x) RETURN count(DISTINCT x) AS reached",
    "2-hop neighbourhood of an ordinary person (any type)":
        "MATCH (p:Person {pid: $a})-[*1..2]-(x) RETURN count(DISTINCT x) AS reached",
    "most-connected persons (aggregate over all KNOWS)":
        "MATCH (p:Person)-[:KNOWS]-(:Person) RETURN p.pid AS pid, count(*) AS degree "
        "ORDER BY degree DESC, pid LIMIT 10",
}

_HUB = "MATCH (p:Person)-[:KNOWS]-() RETURN p.pid AS pid, count(*) AS d ORDER BY d DESC, pid LIMIT 1"
_ORDINARY = ("MATCH (p:Person)-[:PARTY_TO {role: 'suspect'}]->(:Crime) WITH DISTINCT p "
             "MATCH (p)-[:KNOWS]-(f:Person) WHERE f <> p WITH p, count(f) AS d WHERE d >= 4 AND d <= 12 "
             "RETURN p.pid AS pid ORDER BY pid")


def pick_params(run) -> dict[str, str]:
    """$a, $b and $hub of :data:`QUERIES`, found in the graph with ``run(cypher) -> rows``:
    the first and the middle (by pid: far apart in id order, so not near neighbours) of the
    suspects who know 4–12 people, and the person who knows most."""
    ordinary = [r[0] for r in run(_ORDINARY)]
    if len(ordinary) < 2:
        raise GenerationError("the graph has fewer than two suspects who know 4-12 people")
    return {"a": ordinary[0], "b": ordinary[len(ordinary) // 2], "hub": run(_HUB)[0][0]}
