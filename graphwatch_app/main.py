"""The explorer's entry file: it only routes (``streamlit run`` this file; ``graphwatch app`` does)."""

import sys
from pathlib import Path

import streamlit as st

if str(Path(__file__).resolve().parents[1]) not in sys.path:   # run from a checkout: the package's parent
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graphwatch_app.i18n import t
from graphwatch_app.widgets import lang, sidebar

st.set_page_config(page_title="graphwatch", layout="wide")
sidebar()
here = __file__.rsplit("/", 1)[0]
PAGES = [("queue", "pages/queue.py", "🚨"), ("alert", "pages/alert.py", "🔎"), ("search", "pages/search.py", "🔍"),
         ("entity", "pages/entity.py", "👤"), ("paths", "pages/paths.py", "🧭"), ("workbench", "pages/workbench.py", "🛠"),
         ("trends", "pages/trends.py", "📈"), ("data", "pages/data.py", "🗂")]
st.navigation([st.Page(f"{here}/{file}", title=t(name, lang()), icon=icon, url_path=name, default=name == "queue")
               for name, file, icon in PAGES]).run()
