"""趋势 · alerts per model per month or year, confirmed vs dismissed."""

import pandas as pd
import streamlit as st

from graphwatch_app import cache
from graphwatch_app.widgets import lang, tr

st.title(tr("trends"))
period = st.radio(tr("period"), ["year", "month"], horizontal=True, format_func=tr, key="t_period")
with cache.alerts() as store:
    df = pd.DataFrame(store.per_period(period))
if df.empty:
    st.info(f"{tr('no_alerts')} {cache.workspace()}")
    st.stop()
titles, _ = cache.library(str(cache.workspace()))
df["model"] = [titles.get(m, {}).get(lang(), m) for m in df["model"]]
st.subheader(tr("alerts_per"))
st.bar_chart(df, x="period", y="alerts", color="model", stack=True)
st.subheader(tr("confirmed_dismissed"))
both = df.groupby("period")[["confirmed", "dismissed"]].sum().reset_index()
st.bar_chart(both, x="period", y=["confirmed", "dismissed"], stack=False)
st.dataframe(df, hide_index=True, width="stretch", key="t_table")
