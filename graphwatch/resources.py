"""Where the data files shipped with graphwatch are: loader mappings and supervision models.

``loaders/`` and ``patterns/`` sit at the repository's top level (data a user reads and
copies) and the wheel ships them inside the package as ``graphwatch/loaders`` and
``graphwatch/patterns``. Code asks here instead of guessing either place.
"""

from __future__ import annotations

from pathlib import Path

from .exc import GraphwatchError

_PACKAGE = Path(__file__).resolve().parent
SHIPPED = ("loaders", "patterns")


def shipped_dir(name: str) -> Path:
    """The folder of shipped ``name`` files: inside the installed package, else the checkout's.

    >>> shipped_dir("loaders").name
    'loaders'
    """
    if name not in SHIPPED:
        raise ValueError(f"unknown shipped folder {name!r}; one of {SHIPPED}")
    for folder in (_PACKAGE / name, _PACKAGE.parent / name):
        if folder.is_dir():
            return folder
    raise GraphwatchError(f"the shipped {name}/ folder is missing from this installation of graphwatch "
                          f"(looked in {_PACKAGE / name} and {_PACKAGE.parent / name}); reinstall graphwatch")
