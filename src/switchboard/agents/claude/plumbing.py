"""The back-channel's own traffic on the CLI's stdout, which is not kept in the log: the
``mcp_message`` and ``hook_callback`` requests (what they mean comes out as tool calls
and activity) and the answer to the ``initialize`` Switchboard sent."""

from switchboard.agents.claude.stream_json import CliMessage


def is_plumbing(item: CliMessage, initialize_id: str | None, back_channel: bool) -> bool:
    data = item.data
    if item.type == "control_response":
        response = data.get("response")
        request_id = response.get("request_id") if isinstance(response, dict) else None
        return request_id is not None and request_id == initialize_id
    if item.type != "control_request":
        return False
    request = data.get("request")
    subtype = request.get("subtype") if isinstance(request, dict) else None
    return subtype == "hook_callback" or (subtype == "mcp_message" and back_channel)
