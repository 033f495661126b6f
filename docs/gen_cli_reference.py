"""Print the Markdown CLI reference (docs/reference/cli.md) from the click commands.

Run from the repository root:
``.venv/bin/python docs/gen_cli_reference.py > docs/reference/cli.md``.
tests/test_docs_site.py fails when the committed page differs from this script's output.
"""

from __future__ import annotations

import sys

import click

from blendkit.cli import cli

# A fixed width, so the output does not depend on the terminal that runs the script.
WIDTH = 88
PROG = "blendkit"

HEADER = f"""\
<!-- Generated from the click commands by docs/gen_cli_reference.py; do not edit by hand.
     Regenerate: .venv/bin/python docs/gen_cli_reference.py > docs/reference/cli.md -->

# Command-line reference

Every `{PROG}` command with its `--help` text. Settings come from the TOML file named by
`BLENDKIT_CONFIG` and `BLENDKIT_*` variables (see [Configuration](../configuration.md)).
Commands print a BlendkitError as `error: [code] message` on stderr and exit with status 2
(see [Error codes](errors.md)).
"""


def _walk(
    command: click.Command, ctx: click.Context
) -> list[tuple[str, click.Command, click.Context]]:
    """The command and all its subcommands, depth first, subcommands in name order."""
    found = [(ctx.command_path, command, ctx)]
    if isinstance(command, click.Group):
        for name in sorted(command.list_commands(ctx)):
            sub = command.get_command(ctx, name)
            if sub is None or sub.hidden:
                continue
            sub_ctx = sub.make_context(name, [], parent=ctx, resilient_parsing=True)
            found.extend(_walk(sub, sub_ctx))
    return found


def render() -> str:
    """The whole page as Markdown."""
    # make_context applies each command's context_settings (e.g. ``-h`` as a help option).
    root = cli.make_context(
        PROG, [], resilient_parsing=True, terminal_width=WIDTH, max_content_width=WIDTH
    )
    parts = [HEADER]
    for path, command, ctx in _walk(cli, root):
        level = "#" * min(path.count(" ") + 2, 4)
        parts.append(f"{level} `{path}`\n\n```text\n{command.get_help(ctx).rstrip()}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    sys.stdout.write(render())
