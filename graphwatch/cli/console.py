"""What every command shares: the consoles, the progress bar, error handling, cell formatting."""

from __future__ import annotations

import datetime as dt
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..exc import GraphwatchError

if TYPE_CHECKING:
    from rich.text import Text


class _LazyConsole:
    """A rich Console made on first use: importing rich costs ~40 ms of every CLI start."""

    def __init__(self, **kwargs):
        self._kwargs = kwargs
        self._console = None

    def get(self):
        """The rich Console itself: for rich's progress bar, whose live display enters its
        console as a context manager (``with console:``), which this proxy cannot stand in for."""
        if self._console is None:
            from rich.console import Console

            kwargs = dict(self._kwargs)
            if kwargs.pop("stdout_width", False):
                kwargs["width"] = None if sys.stdout.isatty() else 160
            self._console = Console(**kwargs)
        return self._console

    def __getattr__(self, name):
        return getattr(self.get(), name)


# emoji off: a value such as ':smile:' in the data is printed as it is (and rich's emoji table
# is not imported for every table)
console = _LazyConsole(highlight=False, emoji=False, stdout_width=True)
err_console = _LazyConsole(stderr=True, highlight=False, emoji=False)


# Data is never rich markup. Rich reads every str it is given as markup: a file name such as
# 名册[final].csv, a node named [bold]x or a list printed [a, b] would be shown altered or
# empty (or fail, for a stray [/]). So a table cell or header that holds data is plain(value),
# a data part of a line or title that also carries the code's own markup is escape(value),
# and a line with no markup of its own is printed with markup=False.


def plain(value) -> Text:
    """A table cell or header holding data, as rich Text: shown exactly as it is, never read as
    markup (None: empty). The column's justification and style still apply.

    >>> plain("名册[final].csv").plain, plain(None).plain, plain(3).plain
    ('名册[final].csv', '', '3')
    """
    from rich.text import Text

    return Text("" if value is None else str(value))


def escape(text) -> str:
    r"""Data to put inside a markup string (rich imported when first needed).

    >>> print(escape("[bold]张三[/bold]"))
    \[bold]张三\[/bold]
    """
    from rich.markup import escape as rich_escape

    return rich_escape(str(text))


def out_of_memory(exc) -> str:
    """What to do when DuckDB's memory limit was too small for the work (one line): the limit
    is graphwatch's default, 3GB, unless GRAPHWATCH_MEMORY_LIMIT says otherwise; some steps
    (an aggregate keeping lists in order, an index) cannot spill to disk; a load raises the
    limit for those itself (:data:`graphwatch.store.FACT_BYTES_PER_ROW`), other work may not.

    >>> out_of_memory(RuntimeError("failed to allocate")).startswith("DuckDB ran out of memory")
    True
    """
    import psutil

    limit = os.environ.get("GRAPHWATCH_MEMORY_LIMIT", "3GB")
    total = psutil.virtual_memory().total / 2**30
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return (f"DuckDB ran out of memory within its limit of {limit} ({first}); this machine has "
            f"{total:.0f} GiB: set GRAPHWATCH_MEMORY_LIMIT higher (e.g. GRAPHWATCH_MEMORY_LIMIT="
            f"{max(4, int(total * 0.6))}GB) and run the command again — a failed load leaves the "
            "workspace as it was")


class GraphwatchGroup(click.Group):
    """A command group that prints an error the user can fix as one line and exits with 2
    (several independent mistakes found in one file: one line each).

    A file the system cannot open is such an error too. Anything else is a bug: one line
    saying so (exit status 1), the traceback only with ``GRAPHWATCH_DEBUG=1``.
    """

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except GraphwatchError as exc:
            fail(str(exc), 2, *map(str, getattr(exc, "others", ())))
        except OSError as exc:
            fail(f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc), 2)
        except (click.exceptions.Exit, click.ClickException, KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:
            if os.environ.get("GRAPHWATCH_DEBUG"):
                raise
            if type(exc).__name__ == "OutOfMemoryException":       # DuckDB's, without importing it
                fail(out_of_memory(exc), 2)
            fail(f"internal error, please report it: {type(exc).__name__}: {exc} "
                 "(rerun with GRAPHWATCH_DEBUG=1 for the traceback)", 1)


def fail(message: str, status: int, *more: str) -> None:
    """Print ``error: message`` (and ``error:`` each of ``more``) on stderr — never as markup:
    messages quote data — and exit."""
    for text in (message, *more):
        err_console.print("[bold red]error:[/] " + escape(text), markup=True, soft_wrap=True)
    sys.exit(status)


class LibraryDefault:
    """An option default that is a constant of the library, read only when needed.

    Importing the module that defines it (e.g. the resolver, which pulls in pyarrow and
    splink) would slow every start of the CLI, ``--help`` included. click calls a callable
    default when it needs the value and prints ``str()`` of it in the help.
    """

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    def __call__(self):
        import importlib

        return getattr(importlib.import_module(self.module), self.name)

    def __str__(self) -> str:
        return str(self())


def workspace_option(help: str | None = None):
    """``--workspace / -w``: the workspace folder."""
    return click.option("--workspace", "-w", type=click.Path(file_okay=False, path_type=Path), required=True,
                        help=help)


@contextmanager
def progress_bar(description: str):
    """A rich progress bar on stderr; yields a callback(step, done, total)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err_console.get(), transient=False,
                  disable=not err_console.is_terminal and not os.environ.get("GRAPHWATCH_PROGRESS")) as bar:
        task = bar.add_task(description, total=None)

        def update(step: str, done: int, total: int) -> None:
            # (the column reads the description as markup: a step names a file such as 名册[final].csv)
            bar.update(task, description=f"{description}: {escape(step)}", completed=done, total=total)

        yield update
        bar.update(task, description=f"{description}: done")


def frame_rows(df):
    """The rows of a DataFrame as named tuples, a missing value as None.

    pandas 3 reads text columns into its ``str`` dtype, whose missing value is NaN — a float
    that is truthy (``row.encoding or "-"`` keeps it) and that rich refuses to render.
    """
    return df.astype(object).where(df.notna(), None).itertuples()


def show_value(v, *, for_json: bool = False):
    """A returned value as text (table/csv) or plain data (json)."""
    from ..engines import GNode, GPath, GRel

    if isinstance(v, GNode):
        if for_json:
            return {"id": v.id, "key": v.key, "labels": list(v.labels),
                    "properties": show_value(v.properties, for_json=True)}
        name = v.properties.get("name")
        return f"({':'.join(v.labels)} {v.key}{' ' + name if name else ''})"
    if isinstance(v, GRel):
        if for_json:
            return {"id": v.id, "type": v.type, "start": v.start, "end": v.end,
                    "properties": show_value(v.properties, for_json=True)}
        return f"[:{v.type}]"
    if isinstance(v, GPath):
        if for_json:
            return {"nodes": [show_value(n, for_json=True) for n in v.nodes],
                    "rels": [show_value(r, for_json=True) for r in v.rels]}
        parts = [show_value(v.nodes[0])]
        for r, n in zip(v.rels, v.nodes[1:]):
            parts += [f"-{show_value(r)}-", show_value(n)]
        return "".join(parts)
    if isinstance(v, dict):
        return {k: show_value(x, for_json=for_json) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        items = [show_value(x, for_json=for_json) for x in v]
        return items if for_json else "[" + ", ".join(str(i) for i in items) + "]"
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if for_json and not isinstance(v, (str, int, float, bool, type(None))):
        return str(v)
    return v


def cell(v) -> str:
    """A returned value as a table cell (empty for null)."""
    return "" if v is None else str(show_value(v))
