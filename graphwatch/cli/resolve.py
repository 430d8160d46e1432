"""Entity resolution: resolve, and review (the queue, judgements, explain, show, un-merge)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from .console import LibraryDefault, console, escape, frame_rows, plain, progress_bar, workspace_option

#: the resolver's MERGE_THRESHOLD and REVIEW_THRESHOLD (imported when a command needs them)
MERGE_THRESHOLD = LibraryDefault("graphwatch.resolve.resolver", "MERGE_THRESHOLD")
REVIEW_THRESHOLD = LibraryDefault("graphwatch.resolve.resolver", "REVIEW_THRESHOLD")


def print_resolve_report(rep) -> None:
    """What a resolve did, step by step, in Chinese and English."""
    t = Table(title=f"实体消解 · entity resolution: {rep.records:,} person records → {rep.entities:,} persons")
    t.add_column("step")
    t.add_column("count", justify="right")
    for label, n in (("source statements (units)", rep.units),
                     ("merged on a valid ID · 身份证号一致", rep.merged_by_id),
                     ("merged as sole holder of the name in the village · 同村唯一同名", rep.merged_by_village),
                     ("sole holder, but another holder matches too (review) · 同村同音待核", rep.village_doubt),
                     ("merged by the model · 模型判定", rep.merged_by_model),
                     ("review queue (SAME_AS) · 待人工复核", rep.review_pairs),
                     ("ambiguous (matches two ID holders) · 多人可对应", rep.ambiguous),
                     ("merges blocked by different IDs · 身份证号冲突", rep.blocked_by_ids),
                     ("merges blocked by judgements · 人工判定不同", rep.blocked_by_judgement),
                     ("companies · 企业", rep.companies),
                     ("company records merged", rep.company_merges),
                     ("branches (BRANCH_OF) · 分支机构", rep.branches)):
        t.add_row(label, f"{n:,}")
    console.print(t)
    for o in rep.overshared_ids[:10]:
        console.print(f"over-shared ID {o['id']}: {o['records']:,} records under {o['names']} names — "
                      "used only for its owner, never to merge the others", markup=False)
    secs = rep.seconds.get("total", 0.0)
    rate = f", {rep.records / secs:,.0f} records/s" if secs else ""
    console.print(f"model: {rep.model}{' (trained now)' if rep.trained else ''}; {secs:.1f} s{rate}", markup=False)
    if rep.prior:
        p = rep.prior
        console.print(f"prior (chance two random records are one person): {p['prior']:.3g}, this workspace's "
                      f"estimate {p['estimate']:.3g} from {p['id_units']:,} records with an ID weighted "
                      f"{p['weight']:.0%}, the model's {p['model_prior']:.3g}")


@click.command()
@workspace_option()
@click.option("--train", is_flag=True, help="fit the model on this workspace first (saved in it for later runs)")
@click.option("--model", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="a model JSON (default: the workspace's trained model, else the packaged one)")
@click.option("--merge", "merge_threshold", type=click.FloatRange(0, 1), default=MERGE_THRESHOLD, show_default=True,
              help="merge pairs at or above this probability")
@click.option("--review", "review_threshold", type=click.FloatRange(0, 1), default=REVIEW_THRESHOLD,
              show_default=True, help="pairs between this and --merge go to the review queue as SAME_AS")
def resolve(workspace: Path, train: bool, model: Path | None, merge_threshold: float, review_threshold: float):
    """Decide which person and company records are one entity, and rewrite the graph.

    Valid resident IDs and USCCs link first (over-shared and placeholder IDs never merge);
    splink scores the rest on names (simplified, pinyin), birth date, sex, region, village
    and phone. Judgements from 'graphwatch review' always win. Re-running is safe; a load
    undoes resolution until the next resolve.

    \b
    Example:
      graphwatch resolve --workspace ws --train
    """
    from ..exc import ResolveError
    from ..resolve import resolve as resolve_workspace
    from ..schema import workspace_schema
    from ..store import Workspace

    if workspace_schema(workspace).standalone:
        raise ResolveError(f"{workspace} holds a Neo4j export's own schema (made by 'load --infer-schema'; its "
                           "schema.yaml says standalone: true): entity resolution compares the persons and "
                           "companies of graphwatch's domain model (ID numbers, USCCs, names, birth dates)")
    with Workspace(workspace) as ws, progress_bar("resolve") as update:
        rep = resolve_workspace(ws, train=train, model=model, merge_threshold=merge_threshold,
                                review_threshold=review_threshold, progress=update)
    print_resolve_report(rep)


@click.command()
@workspace_option()
@click.option("--same", "same", nargs=2, metavar="A B", help="record A and record B are the same entity")
@click.option("--not-same", "not_same", nargs=2, metavar="A B", help="they are not (blocks the merge for good)")
@click.option("--unsure", nargs=2, metavar="A B", help="looked at, cannot tell (leaves it to the model)")
@click.option("--why", default="", help="reason kept with the judgement")
@click.option("--who", default=None, help="who judged (default: the login name)")
@click.option("--explain", nargs=2, metavar="A B", help="each field's level and weight for a pair")
@click.option("--unmerge", metavar="ENTITY", help="split an entity into its source records")
@click.option("--show", metavar="ENTITY", help="an entity's source records and where each property came from")
@click.option("--limit", type=click.IntRange(min=0), default=30, show_default=True,
              help="pairs of the queue to show, most likely first (0: all); the total is always printed")
def review(workspace: Path, same, not_same, unsure, why: str, who: str | None, explain, unmerge, show, limit: int):
    """The review queue (人工复核): uncertain pairs; record judgements, un-merge, explain.

    Records are named 'dataset#record' as the queue prints them. A judgement re-clusters at
    once and survives every later resolve and load; the latest judgement of a pair wins.

    \b
    Example:
      graphwatch review --workspace ws
      graphwatch review --workspace ws --not-same household_registry/household_registry.csv#12 benefit_rolls/benefit_rolls.csv#FF0000000031 --why "different fathers"
    """
    from ..store import Workspace

    given = [(j, pair) for j, pair in (("same", same), ("not_same", not_same), ("unsure", unsure)) if pair]
    if len(given) + bool(explain) + bool(unmerge) + bool(show) > 1:
        raise click.UsageError("give one of --same, --not-same, --unsure, --explain, --unmerge, --show")
    with Workspace(workspace, read_only=not (given or unmerge)) as ws:
        if given:
            (judgement, (a, b)), = given
            _judge(ws, a, b, judgement, who=who, why=why)
        elif unmerge:
            _unmerge(ws, unmerge, who=who, why=why)
        elif explain:
            _explain(ws, *explain)
        elif show:
            _show_entity(ws, show)
        else:
            _queue(ws, limit)


def _judge(ws, a: str, b: str, judgement: str, *, who, why: str) -> None:
    from ..resolve import judge

    console.print(judge(ws, a, b, judgement, who=who, why=why).describe(), markup=False)


def _unmerge(ws, entity: str, *, who, why: str) -> None:
    from ..resolve import unmerge

    n = unmerge(ws, entity, who=who, why=why or "un-merge")
    console.print(f"{entity}: split into its {n} source records (kept apart in later runs)", markup=False)


def _explain(ws, a: str, b: str) -> None:
    from ..resolve import explain_pair

    e = explain_pair(ws, a, b)
    if not e["scored"]:
        console.print(f"{e['a']} and {e['b']} were not compared (no shared blocking key) or scored below "
                      "the review threshold", markup=False)
    else:
        t = Table(title=f"{escape(e['a'])} ~ {escape(e['b'])}: probability {e['probability']:.4f}, "
                        f"match weight {e['match_weight']:.1f} ({e['status']})")
        for col in ("field", "level", "weight (bits)"):
            t.add_column(col)
        t.add_row("prior", "two random records", f"{e['prior_weight']:+.1f}")
        for f in e["fields"]:
            t.add_row(plain(f["field"]), plain(f["level"]), f"{f['weight']:+.1f}")
        console.print(t)
    if "judgement" in e:
        jd = e["judgement"]
        console.print(f"judged {jd['judgement']} by {jd['who']} at {jd['at'][:19]}: {jd['why']}", markup=False)


def _show_entity(ws, entity: str) -> None:
    from ..resolve import ResolveError, entity_members, entity_provenance

    members = entity_members(ws, entity)
    if not len(members):
        raise ResolveError(f"no resolved entity {entity!r}")
    t = Table(title=f"{escape(entity)}: {len(members)} source record(s)")
    for col in ("record", "name", "ID", "rows"):
        t.add_column(col)
    for m in frame_rows(members):
        t.add_row(plain(m.ref), plain(m.name), plain(m.id_number), str(len(m.records)))
    console.print(t)
    for prop, values in entity_provenance(ws, entity).items():
        distinct = {str(v["value"]) for v in values}
        if len(distinct) > 1:
            console.print(f"{prop}: " + "; ".join(f"{v['value']} ({v['dataset']}#{v['record']})" for v in values[:6]),
                          markup=False)


def _queue(ws, limit: int) -> None:
    from ..resolve import review_counts, review_queue

    q = review_queue(ws, limit=limit or None)
    total, unsure = review_counts(ws)
    if not total:
        console.print("review queue is empty")
        return
    t = Table(title=f"待复核 · review queue: {len(q):,} of {total:,} pairs")
    for col in ("p", "record A", "name", "record B", "name"):
        t.add_column(col)
    for r in frame_rows(q):
        t.add_row(f"{r.probability:.3f}", *map(plain, (r.a, r.a_name, r.b, r.b_name)))
    console.print(t)
    console.print(f"{len(q):,} of {total:,} review pairs shown · 共 {total:,} 对待复核"
                  + (f" ({unsure:,} judged unsure, listed last)" if unsure else "")
                  + (" · --limit N shows more, --limit 0 all" if len(q) < total else "")
                  + " · 'graphwatch review --explain A B' for why", markup=False)
