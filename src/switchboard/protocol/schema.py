"""Write the ``/ws`` protocol's JSON Schema (docs/protocol.schema.json).

    python -m switchboard.protocol.schema docs/protocol.schema.json

A test fails when the committed file and the models drift apart.
"""

import json
import sys
from pathlib import Path

from switchboard.protocol.messages import json_schema


def render() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m switchboard.protocol.schema OUTPUT.json", file=sys.stderr)
        return 2
    Path(argv[0]).write_text(render(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
