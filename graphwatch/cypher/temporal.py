"""The temporal functions of the subset: ``date``, ``localdatetime``, ``duration`` and
``duration.inDays`` — their type rules and SQL, registered in :mod:`.functions`'s table.

graphwatch datetimes have no time zone (``datetime()`` is refused, see
:data:`~.functions.REFUSED_FUNCTIONS`); durations are DuckDB intervals whose fields read as
Neo4j's (:mod:`.expressions`).
"""

from __future__ import annotations

import datetime
import re

from ..schema import did_you_mean
from . import ir
from .valuetypes import a_kind


def _date_type(ck, e, scope, agg_ok):
    if not e.args:
        return "date"
    t, = ck.arg_types(e, scope, agg_ok, 1)
    if t == "map":
        if not isinstance(e.args[0], ir.MapLit):
            raise ck.err(e, "date() takes a map written out, such as date({year: 2021, month: 3, day: 5})")
        m = e.args[0].items
        if set(m) - {"year", "month", "day"} or "year" not in m:
            raise ck.err(e, "date({…}) takes year, month, day")
        return "date"
    if t in ("date", "datetime", "str", "any", "null"):
        if t == "str" and isinstance(e.args[0], ir.Literal):
            _check_iso_date(ck, e.args[0])
        return "date"
    raise ck.err(e, f"date() takes a string, a map or a datetime, not {a_kind(t)}")


def _date_sql(cx, e, sc):
    if not e.args:
        return "current_date"
    if isinstance(e.args[0], ir.MapLit):
        m = e.args[0].items
        y, mo, d = (cx.sql(m[k], sc) if k in m else "1" for k in ("year", "month", "day"))
        return f"make_date(CAST({y} AS BIGINT), CAST({mo} AS BIGINT), CAST({d} AS BIGINT))"
    return f"CAST({cx.args_sql(e, sc)[0]} AS DATE)"


def _check_iso_date(ck, lit: ir.Literal) -> None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", lit.value):
        raise ck.err(lit, f"date({lit.value!r}): write the date as YYYY-MM-DD")
    try:
        datetime.date.fromisoformat(lit.value)
    except ValueError:
        raise ck.err(lit, f"date({lit.value!r}) is not a real date") from None


def _localdatetime_type(ck, e, scope, agg_ok):
    if not e.args:
        return "datetime"
    t, = ck.arg_types(e, scope, agg_ok, 1)
    if t in ("date", "datetime", "str", "any", "null"):
        return "datetime"
    raise ck.err(e, f"localdatetime() takes a string or a date, not {a_kind(t)}")


def _localdatetime_sql(cx, e, sc):
    if not e.args:
        return "CAST(current_timestamp AS TIMESTAMP)"
    return f"CAST({cx.args_sql(e, sc)[0]} AS TIMESTAMP)"



#: duration field -> DuckDB interval constructor
DURATION_FIELDS = {"years": "to_years", "months": "to_months", "weeks": "to_weeks", "days": "to_days",
                   "hours": "to_hours", "minutes": "to_minutes", "seconds": "to_seconds"}
_ISO_DURATION = re.compile(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
                           r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?")


def iso_duration(text: str) -> dict | None:
    """``'P1Y2M'`` as {'years': 1, 'months': 2}; None when it is not an ISO 8601 duration."""
    m = _ISO_DURATION.fullmatch(text)
    if not m or text in ("P", "PT"):
        return None
    return {k: (float(v) if k == "seconds" else int(v)) for k, v in zip(DURATION_FIELDS, m.groups()) if v is not None}


def _duration_type(ck, e, scope, agg_ok):
    if len(e.args) != 1:
        raise ck.err(e, "duration() takes one argument: a map such as {days: 90} or an ISO string 'P90D'")
    arg = e.args[0]
    if isinstance(arg, ir.Literal) and isinstance(arg.value, str):
        if iso_duration(arg.value) is None:
            raise ck.err(arg, f"duration({arg.value!r}) is not an ISO 8601 duration such as 'P90D' or 'PT2H'")
        return "duration"
    if not isinstance(arg, ir.MapLit):
        raise ck.err(e, "duration() takes a map such as {days: 90} or an ISO string 'P90D'")
    for k, v in arg.items.items():
        if k not in DURATION_FIELDS:
            raise ck.err(arg, f"duration field {k!r} is not supported{did_you_mean(k, DURATION_FIELDS)}")
        ck.type(v, scope)
    return "duration"


def _duration_sql(cx, e, sc):
    arg = e.args[0]
    if isinstance(arg, ir.Literal):
        fields = {k: f"{cx.bind_value(v)}" for k, v in iso_duration(arg.value).items()}
    else:
        fields = {k: cx.sql(v, sc) for k, v in arg.items.items()}
    parts = [f"{DURATION_FIELDS[k]}(CAST({s} AS {'DOUBLE' if k == 'seconds' else 'INTEGER'}))"
             for k, s in fields.items()]
    return "(" + " + ".join(parts) + ")" if parts else "INTERVAL 0 DAY"


def _in_days_sql(cx, e, sc):
    a, b = cx.args_sql(e, sc)
    if "datetime" in (cx.type_of(e.args[0]), cx.type_of(e.args[1])):
        # whole days between two instants, truncated toward zero as Neo4j does
        return (f"to_days(CAST(trunc((epoch(CAST({b} AS TIMESTAMP)) - epoch(CAST({a} AS TIMESTAMP))) / 86400) "
                f"AS INTEGER))")
    return f"to_days(CAST(date_diff('day', CAST({a} AS DATE), CAST({b} AS DATE)) AS INTEGER))"


def _in_days_type(ck, e, scope, agg_ok):
    ck.arg_types(e, scope, agg_ok, 2)
    return "duration"


#: name -> (type rule, SQL), as in :class:`~.functions.Function`
TEMPORAL = {
    "date": (_date_type, _date_sql),
    "localdatetime": (_localdatetime_type, _localdatetime_sql),
    "duration": (_duration_type, _duration_sql),
    "duration.indays": (_in_days_type, _in_days_sql),
}
