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
PAGES = [("queue", "views/queue.py"), ("alert", "views/alert.py"), ("search", "views/search.py"),
         ("entity", "views/entity.py"), ("paths", "views/paths.py"), ("workbench", "views/workbench.py"),
         ("trends", "views/trends.py"), ("data", "views/data.py")]
st.navigation([st.Page(f"{here}/{file}", title=t(name, lang()), url_path=name, default=name == "queue")
               for name, file in PAGES]).run()
