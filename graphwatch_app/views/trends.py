"""趋势 · alerts per model per month or year, confirmed vs dismissed."""

import pandas as pd
import streamlit as st

from graphwatch_app import cache
from graphwatch_app.i18n import t
from graphwatch_app.widgets import lang, tr

LANG = lang()      # captured: a format_func must not read the session when it is called later
st.title(tr("trends"))
period = st.selectbox(tr("period"), ["year", "month"], format_func=lambda v: t(v, LANG), key="t_period")
with cache.alerts() as store:
    df = pd.DataFrame(store.per_period(period))
if df.empty:
    st.info(f"{tr('no_alerts')} {cache.workspace()}")
    st.stop()
titles, _ = cache.library(str(cache.workspace()))
df["model"] = [titles.get(m, {}).get(LANG, m) for m in df["model"]]
st.subheader(tr("alerts_per"))
st.bar_chart(df, x="period", y="alerts", color="model", stack=True)
st.subheader(tr("confirmed_dismissed"))
both = df.groupby("period")[["confirmed", "dismissed"]].sum().reset_index()
st.bar_chart(both, x="period", y=["confirmed", "dismissed"], stack=False)
st.dataframe(df, hide_index=True, width="stretch", key="t_table")
