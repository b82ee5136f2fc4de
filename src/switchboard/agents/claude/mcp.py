"""Switchboard's tools as an in-process ("sdk") MCP server of the Claude Code CLI.

The CLI is started with ``--mcp-config`` naming a server of type ``sdk`` called
``switchboard`` and speaks MCP's JSON-RPC to it through ``mcp_message`` control requests
(``initialize``, ``notifications/initialized``, ``tools/list``, ``tools/call``). Every
message but a tool call is answered at once, here; a tool call becomes a
:class:`~switchboard.agents.base.ToolCall` for the hub, answered when the hub is done
(:func:`tool_response`). The tools are listed to the model as
``mcp__switchboard__<tool>``, and allowed without a permission prompt.
"""

import json
from typing import Any

from switchboard.agents.back_channel import SERVER_NAME, TOOLS, TOOLS_BY_NAME
from switchboard.agents.base import ToolCall, ToolResult

PROTOCOL_FALLBACK = "2025-06-18"
"""The MCP version answered when the CLI names none."""
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
TOOL_PREFIX = f"mcp__{SERVER_NAME}__"


def mcp_config() -> str:
    """The ``--mcp-config`` value that declares the server."""
    return json.dumps({"mcpServers": {SERVER_NAME: {"type": "sdk", "name": SERVER_NAME}}})


def allowed_tools() -> str:
    """The ``--allowedTools`` value: every tool of the server, never asked about."""
    return ",".join(TOOL_PREFIX + spec.name for spec in TOOLS)


def is_own_tool(tool_name: str) -> bool:
    return tool_name.startswith(TOOL_PREFIX) and tool_name[len(TOOL_PREFIX) :] in TOOLS_BY_NAME


def handle(
    request_id: str, server_name: str, message: dict[str, Any], version: str
) -> dict[str, Any] | ToolCall:
    """The JSON-RPC reply to ``message`` (``{}``-result for a notification), or the tool
    call it asks for, to be answered later with :func:`tool_response`."""
    message_id = message.get("id")
    method = message.get("method")
    if server_name != SERVER_NAME:
        return _error(message_id, METHOD_NOT_FOUND, f"Server '{server_name}' not found")
    if method == "initialize":
        params = message.get("params")
        asked = params.get("protocolVersion") if isinstance(params, dict) else None
        return _result(
            message_id,
            {
                "protocolVersion": asked if isinstance(asked, str) else PROTOCOL_FALLBACK,
                "capabilities": {"tools": {}},
                "serverInfo": {"name": SERVER_NAME, "version": version},
            },
        )
    if method == "tools/list":
        tools = [
            {"name": spec.name, "description": spec.description, "inputSchema": spec.input_schema()}
            for spec in TOOLS
        ]
        return _result(message_id, {"tools": tools})
    if method == "tools/call":
        params = message.get("params")
        params = params if isinstance(params, dict) else {}
        name = params.get("name")
        arguments = params.get("arguments")
        if not isinstance(name, str) or name not in TOOLS_BY_NAME:
            return _error(message_id, INVALID_PARAMS, f"Unknown tool: {name!r}")
        return ToolCall(request_id, name, arguments if isinstance(arguments, dict) else {})
    if message_id is None:  # a notification (notifications/initialized, …)
        return {"jsonrpc": "2.0", "result": {}}
    return _error(message_id, METHOD_NOT_FOUND, f"Method not found: {method}")


def tool_response(message_id: Any, result: ToolResult) -> dict[str, Any]:
    content = [{"type": "text", "text": result.text}]
    return _result(message_id, {"content": content, "isError": result.is_error})


def _result(message_id: Any, result: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": message_id, "result": result}


def _error(message_id: Any, code: int, text: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": message_id, "error": {"code": code, "message": text}}
