"""The user messages a stand-in CLI reads on stdin. A host's own control requests
(Switchboard's ``initialize``, which registers its hooks) are answered at once, as the
real CLI answers them, and are not prompts."""

import json
import sys
from collections.abc import Iterator
from typing import TextIO


def user_messages(stdin: TextIO, stdout: TextIO) -> Iterator[str]:
    for line in stdin:
        if not line.strip():
            continue
        if '"control_request"' in line:
            request_id = json.loads(line).get("request_id")
            body = {"subtype": "success", "request_id": request_id, "response": {}}
            stdout.write(json.dumps({"type": "control_response", "response": body}) + "\n")
            stdout.flush()
            continue
        yield line


def prompts() -> Iterator[str]:
    """The user messages of this process's stdin."""
    return user_messages(sys.stdin, sys.stdout)
