#!/usr/bin/env python3
"""Benchmark agent: print N stream-json-like lines as fast as possible, then exit 0.

N is the first numeric argument (websocketd) or ``FLOOD_LINES`` (Switchboard, which
passes the CLI's own flags as arguments). Stdin is ignored.
"""

import os
import sys

LINE = (
    '{"type":"stream_event","event":{"type":"content_block_delta","index":0,'
    '"delta":{"type":"text_delta","text":"lorem ipsum dolor sit amet"}},'
    '"session_id":"42fff4de-eb7e-47cf-b556-27ccdc65c616","parent_tool_use_id":null,'
    '"uuid":"9764c477-e34c-4daf-9036-4b6e44a1cc95","seq":%d}\n'
)


def main() -> None:
    numeric = [arg for arg in sys.argv[1:] if arg.isdigit()]
    count = int(numeric[0] if numeric else os.environ.get("FLOOD_LINES", "200000"))
    write = sys.stdout.write
    for i in range(count):
        write(LINE % i)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
