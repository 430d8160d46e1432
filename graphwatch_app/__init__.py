"""The Streamlit explorer of graphwatch (``graphwatch app``).

A package beside ``graphwatch/`` in the same wheel: nothing in ``graphwatch/`` imports
streamlit. ``main.py`` only routes; ``views/`` are thin pages over the library (not ``pages/``: Streamlit would list that folder itself); ``cache.py``
holds every Streamlit cache; ``widgets.py`` the widgets pages share; ``i18n.py`` the strings
(Chinese first, English on a switch); ``services.py`` plain functions the views call
(no streamlit there either, so they are tested and reused without a browser).
"""

from __future__ import annotations

from pathlib import Path

APP_DIR = Path(__file__).resolve().parent
ENTRY = APP_DIR / "main.py"

#: environment the app reads (set by ``graphwatch app``)
ENV_WORKSPACE = "GRAPHWATCH_APP_WORKSPACE"
ENV_NEO4J = "GRAPHWATCH_APP_NEO4J_URI"

#: the graph component's value for a double-click on a node of an expandable drawing
EXPAND_EVENT = "expand_node"

#: what ``.streamlit/config.toml`` would hold, given on the command line so the installed wheel
#: needs no config file: no usage statistics (no request leaves the machine), headless, local only
STREAMLIT_FLAGS = {
    "browser.gatherUsageStats": "false",
    "server.headless": "true",
    "server.address": "127.0.0.1",
    "server.fileWatcherType": "none",
    "client.toolbarMode": "minimal",
    "global.developmentMode": "false",
}


def streamlit_args(port: int) -> list[str]:
    """``streamlit run`` arguments for the explorer on ``127.0.0.1:port``."""
    args = ["run", str(ENTRY)]
    for key, value in {**STREAMLIT_FLAGS, "server.port": str(port), "browser.serverPort": str(port),
                       "browser.serverAddress": "127.0.0.1"}.items():
        args.append(f"--{key}={value}")
    return args
