"""How entities and relationships look in every diagram: shapes and colours by label (as an
i2 chart uses icons), line styles by confidence, titles in Chinese or English, and the CJK font.

Line styles follow i2's convention of confidence: solid — stated by a source record; dashed —
derived by graphwatch (kinship from household relations, co-occurrence from police cases);
dotted — an uncertain identity (``SAME_AS`` from entity resolution's review band).
"""

from __future__ import annotations

from ..schema import Schema

#: the font every diagram names; fonts-noto-cjk (scripts/debian-packages.txt) provides it
FONT = "Noto Sans CJK SC"

#: label → (Graphviz shape, fill colour, border colour); "rbox" is a box with rounded corners (people:
#: compact for a card of several lines, where an ellipse or octagon grows wide)
SHAPES = {
    "VillageCadre": ("rbox", "#fde2e1", "#c0392b"),
    "Official": ("rbox", "#fde2e1", "#c0392b"),
    "Person": ("rbox", "#e8f1fb", "#2e6da4"),
    "Company": ("box3d", "#fff3d6", "#b9770e"),
    "Organisation": ("house", "#e9e3f5", "#6c3483"),
    "Village": ("tab", "#e4f4e4", "#1e8449"),
    "Township": ("tab", "#e4f4e4", "#1e8449"),
    "County": ("tab", "#e4f4e4", "#1e8449"),
    "Household": ("folder", "#eef2f3", "#5d6d7e"),
    "Project": ("cds", "#e0f7f5", "#117a65"),
    "Tender": ("note", "#f2f2f2", "#566573"),
    "Contract": ("note", "#fdf2e9", "#a04000"),
    "Programme": ("component", "#f9ebea", "#922b21"),
    "Benefit": ("box", "#fdedec", "#922b21"),        # many per person: a plain box stays narrow
    "DeathRecord": ("doubleoctagon", "#e5e7e9", "#17202a"),
    "Disability": ("hexagon", "#ebf5fb", "#21618c"),
    "RealEstate": ("folder", "#f4ecf7", "#5b2c6f"),
    "Vehicle": ("box3d", "#f4ecf7", "#5b2c6f"),
    "PoliceCase": ("diamond", "#fadbd8", "#78281f"),
}
DEFAULT_SHAPE = ("box", "#ffffff", "#333333")


def shape_of(label: str | None) -> tuple[str, str, str]:
    return SHAPES.get(label or "", DEFAULT_SHAPE)


def line_of(rel: dict) -> str:
    """Graphviz ``style`` for a relationship: solid (source record), dashed (derived), dotted (uncertain)."""
    if rel["type"] == "SAME_AS":
        return "dotted"
    if str(rel.get("dataset", "")).startswith("derived:"):
        return "dashed"
    return "solid"


LINE_LEGEND = {"solid": ("来源记录载明", "stated by a source record"),
               "dashed": ("系统推导（亲属关系、同案）", "derived (kinship, co-occurrence)"),
               "dotted": ("疑似同一（待核实）", "possibly the same (unconfirmed)")}


def label_title(schema: Schema, label: str | None, lang: str) -> str:
    if label and label in schema.labels:
        lab = schema.labels[label]
        return lab.title_zh if lang == "zh" else lab.title_en
    return label or ""


def type_title(schema: Schema, rel_type: str, lang: str) -> str:
    if rel_type in schema.rel_types:
        t = schema.rel_types[rel_type]
        return t.title_zh if lang == "zh" else t.title_en
    return rel_type


#: properties worth a line on an evidence card, by label (others go to the dossier's table)
CARD_PROPERTIES = {
    "Person": ("id_number", "birth_date", "phone"),
    "Official": ("id_number", "birth_date", "phone"),
    "VillageCadre": ("id_number", "birth_date", "phone"),
    "Company": ("uscc", "established", "status"),
    "Contract": ("amount", "award_method", "signed"),
    "Project": ("budget", "start_date"),
    "Tender": ("award_method", "budget", "announced"),
    "Benefit": ("amount", "period_start", "period_end"),
    "DeathRecord": ("death_date",),
    "PoliceCase": ("cause", "occurred_at", "place"),
    "Organisation": ("org_kind",),
    "RealEstate": ("address",),
    "Vehicle": ("plate",),
}

PROPERTY_TITLES = {
    "id_number": ("身份证号", "ID no."), "birth_date": ("出生", "born"), "phone": ("电话", "phone"),
    "uscc": ("统一社会信用代码", "USCC"), "established": ("成立", "founded"), "status": ("状态", "status"),
    "amount": ("金额", "amount"), "award_method": ("发包方式", "award"), "signed": ("签订", "signed"),
    "budget": ("预算", "budget"), "start_date": ("开工", "start"), "announced": ("公告", "announced"),
    "period_start": ("起", "from"), "period_end": ("止", "to"), "death_date": ("死亡日期", "died"),
    "cause": ("案由", "cause"), "occurred_at": ("时间", "when"), "place": ("地点", "place"),
    "org_kind": ("类别", "kind"), "address": ("地址", "address"), "plate": ("号牌", "plate"),
    "share": ("持股", "share"), "post": ("职务", "post"), "relation": ("关系", "relation"), "kin": ("亲属", "kin"),
    "role": ("身份", "role"), "position": ("职位", "position"), "bid_amount": ("投标价", "bid"),
    "score": ("相似度", "score"), "basis": ("依据", "basis"),
}


def property_title(name: str, lang: str) -> str:
    zh, en = PROPERTY_TITLES.get(name, (name, name))
    return zh if lang == "zh" else en


SOURCE = {"zh": "来源", "en": "source"}
