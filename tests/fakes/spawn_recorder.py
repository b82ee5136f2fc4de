#!/usr/bin/env python3
"""Record that a CLI was spawned, then become the real one (same PID, same arguments).

Used as ``--claude-bin`` so tests can prove a refused request spawned nothing:
appends one line to ``$SPAWN_LOG`` (pid and meta) and one JSON line to
``$SPAWN_LOG.argv`` (pid, arguments and working directory), then ``exec``s
``$REAL_CLAUDE``.
"""

import json
import os
import sys

with open(os.environ["SPAWN_LOG"], "a", encoding="utf-8") as log:
    log.write(f"{os.getpid()} {os.environ.get('SWITCHBOARD_META', '')}\n")
with open(os.environ["SPAWN_LOG"] + ".argv", "a", encoding="utf-8") as log:
    log.write(json.dumps({"pid": os.getpid(), "argv": sys.argv[1:], "cwd": os.getcwd()}) + "\n")
real = os.environ["REAL_CLAUDE"]
os.execv(real, [real, *sys.argv[1:]])
