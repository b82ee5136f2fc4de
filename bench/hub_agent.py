#!/usr/bin/env python3
"""Benchmark CLI for the hub: answers every stream-json user message with one run of lines.

For each user message on stdin it prints a ``system``/``init`` line, E ``assistant``
lines and a ``result`` line (all as one burst, as fast as it can), then reads the next
message; it exits 0 at EOF. E is the message's text when that is a number, else
``HUB_AGENT_EVENTS`` (default 1000). Every line carries a ``"uuid"`` field, which is how
the benchmark's clients tell the agent's lines from the hub's own messages. The CLI's
flags, which the hub passes, are ignored. Stdlib only.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.stdin_prompts import prompts

SESSION = "b3f1c0de-0000-4000-8000-00000000be7c"
INIT = (
    '{"type":"system","subtype":"init","cwd":%s,"session_id":"' + SESSION + '",'
    '"tools":["Bash","Read","Edit"],"model":"claude-bench","permissionMode":"default",'
    '"uuid":"00000000-0000-4000-8000-%012d"}\n'
)
ASSISTANT = (
    '{"type":"assistant","message":{"id":"msg_bench","type":"message","role":"assistant",'
    '"model":"claude-bench","content":[{"type":"text","text":"lorem ipsum dolor sit amet, '
    'consectetur adipiscing elit %d"}],"stop_reason":null,"stop_sequence":null,'
    '"usage":{"input_tokens":3,"output_tokens":12}},"parent_tool_use_id":null,'
    '"session_id":"' + SESSION + '","uuid":"00000000-0000-4000-8000-%012d"}\n'
)
RESULT = (
    '{"type":"result","subtype":"success","is_error":false,"num_turns":1,"duration_ms":1,'
    '"result":"done","session_id":"' + SESSION + '",'
    '"uuid":"00000000-0000-4000-8000-%012d"}\n'
)


def lines_wanted(message: str) -> int:
    """The number of assistant lines a user message asks for."""
    default = int(os.environ.get("HUB_AGENT_EVENTS", "1000"))
    try:
        content = json.loads(message)["message"]["content"]
    except (ValueError, KeyError, TypeError):
        return default
    text = content if isinstance(content, str) else ""
    return int(text) if text.strip().isdigit() else default


def main() -> None:
    write = sys.stdout.write
    cwd = json.dumps(os.getcwd())
    counter = 0
    for message in prompts():
        events = lines_wanted(message)
        write(INIT % (cwd, counter))
        counter += 1
        for i in range(events):
            write(ASSISTANT % (i, counter))
            counter += 1
        write(RESULT % counter)
        counter += 1
        sys.stdout.flush()


if __name__ == "__main__":
    main()
