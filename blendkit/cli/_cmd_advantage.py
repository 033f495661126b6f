"""``blendkit canvas-json``: the Canvas developer-key configuration, for pasting by hand."""

from __future__ import annotations

import click
import orjson

from blendkit.cli._shared import handle_errors, settings
from blendkit.lti._canvas import CANVAS_PLACEMENTS, canvas_developer_key_config
from blendkit.lti._tool_config import ToolConfig

__all__ = ["commands"]


@click.command("canvas-json")
@click.option(
    "--placement",
    "placements",
    multiple=True,
    type=click.Choice(list(CANVAS_PLACEMENTS)),
    help="A Canvas placement to include (repeat; default: all of them).",
)
@handle_errors
def canvas_json(placements: tuple[str, ...]) -> None:
    """Print the JSON for a Canvas LTI 1.3 developer key (Method: Paste JSON).

    The URLs come from [tool] base_url (BLENDKIT_TOOL_BASE_URL). The same JSON is served at
    /lti/canvas.json for Canvas's "Enter URL" method.
    """
    tool = ToolConfig.from_settings(settings())
    config = canvas_developer_key_config(tool, placements=placements or tuple(CANVAS_PLACEMENTS))
    click.echo(orjson.dumps(config, option=orjson.OPT_INDENT_2).decode())


commands: list[click.Command] = [canvas_json]
