"""A real MCP server (the official SDK's MCPServer over stdio), started by the tests as a subprocess; with
`--http PORT` it serves streamable HTTP instead.

Tools: `weather` (allowlisted in the tests), `shout`, and `crash`, which ends the server's process (to test that the
bot survives a restart). `env_seen` reports which of the named environment variables the server can read; `pid`
gives the server's process id (so a test can kill it). When the file named by STANDIN_EXTRA exists at start, the
server also has `extra` (a tool list that changes across a restart).
"""

from __future__ import annotations

import os
import sys

from mcp.server.mcpserver import MCPServer

server = MCPServer("standin")


@server.tool()
def weather(city: str) -> str:
    """Today's weather in a city."""
    return f"Sunny in {city}, 21 °C"


@server.tool()
def shout(text: str) -> str:
    """The text in capitals."""
    return text.upper()


@server.tool()
def env_seen(names: list[str]) -> str:
    """Which of these environment variables this server can read."""
    return ",".join(n for n in names if n in os.environ) or "none"


@server.tool()
def crash() -> str:
    """Ends this server's process at once."""
    sys.stdout.flush()
    os._exit(3)


@server.tool()
def pid() -> str:
    """This server's process id."""
    return str(os.getpid())


if os.path.exists(os.environ.get("STANDIN_EXTRA", "/nonexistent")):

    @server.tool()
    def extra() -> str:
        """A tool this server has only when started with its file present."""
        return "extra!"


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--http":  # streamable HTTP on 127.0.0.1:PORT/mcp
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run("stdio")
