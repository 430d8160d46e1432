"""Which node an investigator means: a workspace id, a node key, a resident ID number, a USCC
or a name. A name that several nodes carry is an error listing them (masked), so the
investigator picks one by id."""

from __future__ import annotations

from ..exc import GraphwatchError
from ..masking import mask_key, mask_text
from .graph import Graph, primary_label


class AmbiguousEntity(GraphwatchError):
    """A name (or number) that several nodes carry; ``candidates`` lists them."""

    def __init__(self, message: str, candidates: list[dict]):
        super().__init__(message)
        self.candidates = candidates


def find_entity(g: Graph, text: str, *, unmask: bool = False) -> int:
    """The dense vertex of the node ``text`` names.

    Tried in order: a workspace node id (digits), a key (``Person:…``), a resident ID number
    (cleaned: full-width digits, 15 → 18 digits), a USCC, then an exact name (or one of a
    resolved entity's other names). Several nodes with that name raise
    :class:`AmbiguousEntity` listing them with label, key and village.

    Examples
    --------
    >>> from graphwatch.analytics.graph import from_edges
    >>> g = from_edges([("张三", "某公司", "LEGAL_REP_OF")])
    >>> find_entity(g, "某公司"), find_entity(g, "0")
    (1, 0)
    >>> find_entity(g, "李四")
    Traceback (most recent call last):
    ...
    graphwatch.exc.GraphwatchError: no node is called '李四' (nor has that id, key, ID number or USCC)
    """
    text = str(text).strip()
    if not text:
        raise GraphwatchError("name an entity: a workspace id, a key, an ID number, a USCC or a name")
    if g.workspace is None:
        return _find_in_memory(g, text)
    nid = _find_in_workspace(g, text, unmask=unmask)
    try:
        return g.vertex(nid)
    except KeyError:
        raise GraphwatchError(f"{text}: node {nid} is not in the part of the graph chosen "
                              "(labels or date range)") from None


def _find_in_memory(g: Graph, text: str) -> int:
    if text.isdigit() and int(text) < g.vcount:
        return int(text)
    for values in (g.keys, g.names):
        hits = [i for i, v in enumerate(values or []) if v == text]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise AmbiguousEntity(f"{len(hits)} nodes are called {text!r}", [{"vertex": h} for h in hits])
    raise GraphwatchError(f"no node is called {text!r} (nor has that id, key, ID number or USCC)")


def _find_in_workspace(g: Graph, text: str, *, unmask: bool) -> int:
    from ..resolve.ids import clean_resident_id, clean_uscc
    from ..store import Workspace, node_by_key

    with Workspace(g.workspace, read_only=True) as ws:
        con, props = ws.con, ws.schema.node_properties
        if text.lstrip("-").isdigit() and len(text) <= 19:
            hit = con.execute("SELECT nid FROM node WHERE nid = ?", [int(text)]).fetchone()
            if hit:
                return hit[0]
        if ":" in text:
            nid = node_by_key(con, text)
            if nid is not None:
                return nid
        tries = []
        rid, status = clean_resident_id(text)
        if rid and status in ("valid", "legacy15") and "id_number" in props:
            tries.append(("id_number", rid, "ID number"))
        code, status = clean_uscc(text)
        if code and status == "valid" and "uscc" in props:
            tries.append(("uscc", code, "USCC"))
        if "name" in props:
            tries.append(("name", text, "name"))
        for column, value, what in tries:
            alias = " OR list_contains(aliases, $v)" if column == "name" and "aliases" in props else ""
            village = "village_code" if "village_code" in props else "NULL"
            rows = con.execute(f"""SELECT nid, key, labels, name, {village} FROM node
                WHERE "{column}" = $v{alias} ORDER BY nid LIMIT 51""", {"v": value}).fetchall()
            if len(rows) == 1:
                return rows[0][0]
            if rows:
                candidates = [{"id": r[0], "key": r[1] if unmask else mask_key(r[1]), "label": primary_label(r[2]),
                               "name": r[3], "village": r[4]} for r in rows[:50]]
                listing = "; ".join(f"{c['id']} {c['label']} {c['name'] or ''} {c['key']}"
                                    + (f" village {c['village']}" if c["village"] else "") for c in candidates[:10])
                more = f" (and {len(rows) - 10} more)" if len(rows) > 10 else ""
                shown = text if unmask or what == "name" else mask_text(text)
                raise AmbiguousEntity(f"{len(rows)}{'+' if len(rows) > 50 else ''} nodes have the {what} "
                                      f"{shown!r}; give one by id: {listing}{more}", candidates)
    raise GraphwatchError(f"no node is called {text!r} (nor has that id, key, ID number or USCC)")
