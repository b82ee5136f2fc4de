"""Write the JSON Schema of ``/ws`` and ``/ws/agent`` (docs/protocol.schema.json).

    python -m switchboard.protocol.schema docs/protocol.schema.json

A test fails when the committed file and the models drift apart.
"""

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from switchboard.protocol.agent_link import AgentToHub, HubToAgent
from switchboard.protocol.messages import json_schema


def full_schema() -> dict[str, Any]:
    """``/ws`` (both directions, and the data of its events) and ``/ws/agent``."""
    schema = json_schema()
    parts: dict[str, TypeAdapter[Any]] = {
        "agent_to_hub": TypeAdapter(AgentToHub),
        "hub_to_agent": TypeAdapter(HubToAgent),
    }
    for name, adapter in parts.items():
        part = adapter.json_schema(ref_template="#/$defs/{model}")
        schema["$defs"].update(part.pop("$defs", {}))
        schema["properties"][name] = part
    return schema


def render() -> str:
    return json.dumps(full_schema(), indent=2, sort_keys=True) + "\n"


def write_document(argv: list[str], module: str, render: Callable[[], str]) -> int:
    """``python -m MODULE OUTPUT.json``: write the document ``render`` makes there (the
    committed schema and OpenAPI documents are made so, and tests compare them)."""
    if len(argv) != 1:
        print(f"usage: python -m {module} OUTPUT.json", file=sys.stderr)
        return 2
    Path(argv[0]).write_text(render(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(write_document(sys.argv[1:], "switchboard.protocol.schema", render))
