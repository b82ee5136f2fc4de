#!/usr/bin/env python3
"""Benchmark CLI for remote agents: answers each stream-json user message with one run
of ``assistant`` lines, each carrying the time it was printed (``time.time()``), so a
subscriber can tell how long a line took to reach it.

The user message's text is ``N`` (a burst of N lines, as fast as it can: throughput)
or ``N@R`` (N lines at R lines a second: latency). Every line carries a ``"uuid"``. The
CLI's flags, which the hub passes, are ignored. Stdlib only.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.stdin_prompts import prompts

SESSION = "5ta3f000-0000-4000-8000-00000000be7c"
INIT = (
    '{"type":"system","subtype":"init","cwd":%s,"session_id":"' + SESSION + '",'
    '"tools":[],"model":"claude-bench","permissionMode":"default",'
    '"uuid":"00000000-0000-4000-8000-%012d"}\n'
)
ASSISTANT = (
    '{"type":"assistant","message":{"id":"msg_bench","type":"message","role":"assistant",'
    '"model":"claude-bench","content":[{"type":"text","text":"stamp %.6f"}],'
    '"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":12}},'
    '"parent_tool_use_id":null,"session_id":"' + SESSION + '",'
    '"uuid":"00000000-0000-4000-8000-%012d"}\n'
)
RESULT = (
    '{"type":"result","subtype":"success","is_error":false,"num_turns":1,"duration_ms":1,'
    '"result":"done","session_id":"' + SESSION + '",'
    '"uuid":"00000000-0000-4000-8000-%012d"}\n'
)


def asked(message: str) -> tuple[int, float | None]:
    """Lines wanted, and at what rate (None: all at once)."""
    try:
        text = json.loads(message)["message"]["content"]
    except (ValueError, KeyError, TypeError):
        return 1000, None
    count, _, rate = str(text).partition("@")
    return int(count), float(rate) if rate else None


def main() -> None:
    write, flush = sys.stdout.write, sys.stdout.flush
    cwd = json.dumps(os.getcwd())
    counter = 0
    for message in prompts():
        count, rate = asked(message)
        write(INIT % (cwd, counter))
        counter += 1
        start = time.monotonic()
        for i in range(count):
            if rate is not None:
                due = start + i / rate
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            write(ASSISTANT % (time.time(), counter))
            counter += 1
            if rate is not None:
                flush()
        write(RESULT % counter)
        counter += 1
        flush()


if __name__ == "__main__":
    main()
