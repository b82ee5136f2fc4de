#!/usr/bin/env python3
"""A daemon, as a tool might start one (stdlib only): ``daemon.py PIDFILE [--clear-env]``.

It forks, calls ``setsid()``, forks again (so it leads no session and belongs to no
group or session of whoever started it, and is reparented away from it), points its
stdio at /dev/null, writes its PID to PIDFILE (whole, by a rename) and sleeps 300 s.
The starting process exits 0 only once PIDFILE is written, so a caller that waited for
it can read the PID at once. With ``--clear-env`` the daemon first execs itself again
with an empty environment (as ``env -i`` would), shedding any marker it inherited.
"""

import os
import sys
import time


def daemon(pidfile: str, ready: int) -> None:
    tmp = f"{pidfile}.tmp"
    with open(tmp, "w") as file:
        file.write(str(os.getpid()))
    os.rename(tmp, pidfile)
    os.write(ready, b"1")
    os.close(ready)
    time.sleep(300)


def main() -> int:
    if sys.argv[1] == "--daemon":  # the daemon, after an exec with an empty environment
        daemon(sys.argv[2], int(sys.argv[3]))
        return 0
    pidfile = sys.argv[1]
    read_end, ready = os.pipe()
    if os.fork():
        os.close(ready)
        return 0 if os.read(read_end, 1) == b"1" else 1
    os.close(read_end)
    os.setsid()
    if os.fork():
        os._exit(0)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    if "--clear-env" in sys.argv[2:]:
        os.set_inheritable(ready, True)
        argv = [sys.executable, __file__, "--daemon", pidfile, str(ready)]
        os.execve(sys.executable, argv, {})
    daemon(pidfile, ready)
    return 0


if __name__ == "__main__":
    sys.exit(main())
