"""The repository's shape: import directions (import-linter) and a documented command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import typer

from curate.cli import app

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def _commands(group, prefix=()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


def test_every_command_has_help_with_an_example():
    group = typer.main.get_command(app)
    names = []
    for path, command in _commands(group):
        names.append(" ".join(path))
        assert command.help and "Example:" in command.help, f"`curate {' '.join(path)}` help has no example"
    assert {"init", "status"} <= set(names)


def test_help_is_fast_because_heavy_packages_load_lazily():
    code = "import sys, curate.cli; heavy = {'torch', 'playwright', 'selenium', 'TikTokApi', 'transformers', 'pandas', 'sqlalchemy'}; print(sorted(heavy & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_an_error_message_is_printed_as_written_even_with_brackets(sqlite_cli):
    result = sqlite_cli("--config", "/nowhere/[models]/config.toml", "status", ok=False)
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: config file not found: /nowhere/[models]/config.toml"
