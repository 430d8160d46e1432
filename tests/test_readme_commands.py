"""Every graphwatch command the README and the docs show parses: the command exists and takes those
options and arguments (a renamed option fails here, not in a reader's shell). Paths the
commands name are made in an empty folder first, as a reader would have them."""

from __future__ import annotations

import glob
import os
import shlex

import click
import pytest

from docblocks import blocks
from graphwatch.cli import main


def shown_commands(doc: str = "README.md") -> list[list[str]]:
    """argv of every ``.venv/bin/graphwatch`` command in the document's bash blocks (a quoted
    argument may span lines; comments dropped)."""
    out = []
    for b in blocks(doc):
        if b.lang != "bash":
            continue
        pending = ""
        for line in b.text.replace("\\\n", " ").splitlines():
            pending = f"{pending}\n{line}" if pending else line
            try:
                argv = shlex.split(pending, comments=True)
            except ValueError:          # a quotation still open: the argument goes on
                continue
            pending = ""
            if argv[:1] in ([".venv/bin/graphwatch"], ["graphwatch"]):
                # bash keeps \$ and \` of a double-quoted word as $ and ` (shlex does not)
                out.append([a.replace("\\$", "$").replace("\\`", "`") for a in argv[1:]])
    return out


DOCS = ["README.md", "docs/loaders.md", "docs/cypher.md", "docs/sources.md", "patterns/README.md"]
SHOWN = [argv for doc in DOCS for argv in shown_commands(doc)]


def test_the_readme_shows_commands():
    readme = shown_commands("README.md")
    assert len(readme) >= 30 and any(argv[0] == "query" and "MATCH" in argv[1] for argv in readme)


def _materialise(argv: list[str]) -> list[str]:
    """Make the files and folders the command names; expand globs as the shell would."""
    out = []
    for a in argv:
        if "/" in a and "://" not in a and not a.startswith(("-", "[")) and "MATCH" not in a:
            if a.endswith("/"):
                os.makedirs(a, exist_ok=True)
            elif "*" in a:
                os.makedirs(a.rsplit("/", 1)[0], exist_ok=True)
                open(a.replace("*", "model"), "w").close()
                out.extend(sorted(glob.glob(a)))
                continue
        out.append(a)
    return out


def _parse(argv: list[str]) -> None:
    """Resolve the command chain as click would and parse the last command's arguments."""
    cmd, args, ctx = main, argv, None
    while isinstance(cmd, click.Group):        # the README puts no group options before a command
        ctx = click.Context(cmd, info_name=cmd.name, parent=ctx)
        sub = cmd.get_command(ctx, args[0])
        assert sub is not None, f"no command {args[0]!r}"
        cmd, args = sub, args[1:]
    cmd.make_context(cmd.name, list(args), parent=ctx)         # raises on an unknown option


@pytest.mark.parametrize("argv", SHOWN, ids=[" ".join(a[:2]) for a in SHOWN])
def test_readme_command_parses(argv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = _materialise(argv)
    for _ in range(5):
        try:
            _parse(argv)
            return
        except click.BadParameter as exc:
            # a folder the document made in an earlier step (its worked example): make it, parse again
            missing = next((a for a in argv if f"'{a}' does not exist" in exc.format_message()), None)
            if missing is None:
                pytest.fail(f"docs: graphwatch {' '.join(argv)}\n  {exc.format_message()}")
            os.makedirs(missing)
        except click.ClickException as exc:
            pytest.fail(f"docs: graphwatch {' '.join(argv)}\n  {exc.format_message()}")
    pytest.fail(f"docs: graphwatch {' '.join(argv)}: still a missing path after five")
