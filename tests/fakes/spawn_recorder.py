#!/usr/bin/env python3
"""Record that a CLI was spawned, then become the real one (same PID, same arguments).

Used as ``--claude-bin`` so tests can prove a refused request spawned nothing:
appends one line to ``$SPAWN_LOG``, then ``exec``s ``$REAL_CLAUDE``.
"""

import os
import sys

with open(os.environ["SPAWN_LOG"], "a", encoding="utf-8") as log:
    log.write(f"{os.getpid()} {os.environ.get('SWITCHBOARD_META', '')}\n")
real = os.environ["REAL_CLAUDE"]
os.execv(real, [real, *sys.argv[1:]])
