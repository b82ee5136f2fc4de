#!/usr/bin/env python3
"""A misbehaving stand-in for the Claude CLI, for fault injection (stdlib only).

The mode comes from ``FAKE_AGENT_MODE`` or, failing that, the first argument; any
other arguments (the real CLI's flags) are ignored. Modes:

  ok              read one user message, print init/assistant/result, exit 0 at EOF
  crash           print one line, write to stderr, exit 3
  hang            print one line, then sleep forever (honours SIGTERM)
  stubborn        like hang, but ignores SIGTERM (needs SIGKILL)
  flood N         print N JSON lines as fast as possible, exit 0
  stderr-flood N  write N bytes to stderr, exit 0
  garbage         print non-JSON lines between JSON ones, exit 0
  overlong N      print a JSON line of N bytes, then a normal line, exit 0
  spawn           start two children and a grandchild (sleep 1000), print their pids, hang
  spawn-exit      like spawn, but exit 0 right away, leaving them behind
  graceful        start a child that, on SIGTERM, takes 0.2 s to write $FAKE_AGENT_MARKER;
                  print its pid, then hang (the agent itself dies on SIGTERM at once)
  graceful-exit   like graceful, but exit 0 right away, leaving the child behind
  exit-early      write to stderr and exit 5 without reading stdin
  escape          start a child in a new session that keeps stdout open and prints a
                  line every 0.2 s for 20 s; print its pid, exit 0
  env             print the names of SWITCHBOARD_* variables it was given, and its meta
  ask             send a can_use_tool request, print the answer as a result, exit 0
  turns N         for every user message on stdin: init, N assistant lines of 1 KiB
                  of random hex
                  (pausing $FAKE_AGENT_PAUSE s, default 0.002, every 100), a result;
                  exit 0 at EOF. With
                  $FAKE_AGENT_GATE set (a FIFO), each flood waits until a writer opens
                  and closes it
  lines           for every user message on stdin, print the lines of the file
                  $FAKE_AGENT_LINES (read again each time) byte for byte; exit 0 at EOF
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator


def emit(obj: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def user_lines() -> Iterator[str]:
    """The user messages on stdin: a host's own control requests (``initialize``, which
    Switchboard sends to register its hooks) are answered as the real CLI would."""
    for line in sys.stdin:
        if '"control_request"' in line:
            request_id = json.loads(line).get("request_id")
            response = {"subtype": "success", "request_id": request_id, "response": {}}
            emit({"type": "control_response", "response": response})
            continue
        yield line


def forever() -> None:
    while True:
        time.sleep(3600)


def spawn_family() -> list[int]:
    sleeper = [sys.executable, "-c", "import time; time.sleep(1000)"]
    parent_of_grandchild = [
        sys.executable,
        "-c",
        "import subprocess, sys, time;"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(1000)']);"
        "print(p.pid, flush=True); time.sleep(1000)",
    ]
    first = subprocess.Popen(sleeper)
    second = subprocess.Popen(parent_of_grandchild, stdout=subprocess.PIPE, text=True)
    assert second.stdout is not None
    grandchild = int(second.stdout.readline())
    return [first.pid, second.pid, grandchild]


GRACEFUL_CHILD = """
import os, signal, sys, time
def on_term(*_):
    time.sleep(0.2)
    open(os.environ["FAKE_AGENT_MARKER"], "w").write("cleaned up")
    sys.exit(0)
signal.signal(signal.SIGTERM, on_term)
print("ready", flush=True)
while True:
    time.sleep(3600)
"""

ESCAPEE = """
import os, sys, time
os.setsid()
for i in range(100):
    print('{"type":"escapee","i":%d}' % i, flush=True)
    time.sleep(0.2)
"""


def graceful_child() -> int:
    child = subprocess.Popen([sys.executable, "-c", GRACEFUL_CHILD], stdout=subprocess.PIPE)
    assert child.stdout is not None
    child.stdout.readline()  # its SIGTERM handler is installed
    return child.pid


def ask() -> int:
    request = {
        "subtype": "can_use_tool",
        "tool_name": "Bash",
        "input": {"command": "rm -rf x"},
        "tool_use_id": "toolu_1",
        "permission_suggestions": [],
    }
    emit({"type": "control_request", "request_id": "ask-1", "request": request})
    for line in sys.stdin:
        message = json.loads(line)
        if message.get("type") == "control_response":
            emit({"type": "result", "subtype": "success", "answer": message["response"]})
            return 0
    return 1


def turns(count: int, init: dict[str, object]) -> int:
    gate = os.environ.get("FAKE_AGENT_GATE")
    pause = float(os.environ.get("FAKE_AGENT_PAUSE") or 0.002)
    for number, _line in enumerate(user_lines()):
        emit(init)
        if gate:
            with open(gate) as fifo:  # blocks until the test opens the gate
                fifo.read()
        for i in range(count):
            pad = os.urandom(500).hex()  # does not compress away on the wire
            emit({"type": "assistant", "turn": number, "i": i, "pad": pad})
            if i % 100 == 99:
                time.sleep(pause)
        emit({"type": "result", "subtype": "success", "is_error": False, "num_turns": 1})
    return 0


def scripted_lines(path: str) -> int:
    for _line in user_lines():
        with open(path, "rb") as file:  # read again for each: a test may change it
            sys.stdout.buffer.write(file.read())
        sys.stdout.flush()
    return 0


def main() -> int:
    # Positional mode only when called as `fake_agent.py MODE [N]`; as a stand-in for
    # the CLI it gets flags instead, and reads its mode from the environment.
    args = sys.argv[1:3] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else []
    mode = os.environ.get("FAKE_AGENT_MODE") or (args[0] if args else "ok")
    param = int(os.environ.get("FAKE_AGENT_N") or (args[1] if len(args) > 1 else 1000))
    init = {"type": "system", "subtype": "init", "session_id": "fake", "pid": os.getpid()}
    if mode == "ok":
        line = next(user_lines(), "")
        prompt = json.loads(line)["message"]["content"] if line.strip() else ""
        emit(init)
        emit({"type": "assistant", "message": {"content": [{"type": "text", "text": prompt}]}})
        emit({"type": "result", "subtype": "success", "is_error": False, "result": prompt})
        sys.stdin.read()
        return 0
    if mode == "turns":
        return turns(param, init)
    if mode == "lines":
        return scripted_lines(os.environ["FAKE_AGENT_LINES"])
    if mode == "crash":
        emit(init)
        sys.stderr.write("fake agent: something broke\n")
        return 3
    if mode in ("hang", "stubborn"):
        if mode == "stubborn":
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        emit(init)
        forever()
    if mode == "flood":
        write = sys.stdout.write
        for i in range(param):
            write(f'{{"type":"stream_event","seq":{i},"pad":"xxxxxxxxxxxxxxxxxxxxxxxx"}}\n')
        sys.stdout.flush()
        return 0
    if mode == "stderr-flood":
        sys.stderr.write("e" * param)
        sys.stderr.flush()
        emit(init)
        return 0
    if mode == "garbage":
        emit(init)
        sys.stdout.write("this is not json\n")
        sys.stdout.write("[1, 2, 3]\n")
        sys.stdout.buffer.write(b"\xff\xfe not utf-8\n")
        sys.stdout.flush()
        emit({"type": "result", "subtype": "success", "is_error": False})
        return 0
    if mode == "overlong":
        emit({"type": "assistant", "pad": "x" * param})
        emit({"type": "result", "subtype": "success", "is_error": False})
        return 0
    if mode in ("spawn", "spawn-exit"):
        pids = spawn_family()
        emit({"type": "system", "subtype": "family", "pids": pids, "pid": os.getpid()})
        if mode == "spawn-exit":
            return 0
        forever()
    if mode in ("graceful", "graceful-exit"):
        emit({"type": "system", "subtype": "family", "pids": [graceful_child()]})
        if mode == "graceful-exit":
            return 0
        forever()
    if mode == "exit-early":
        sys.stderr.write("fake agent: error: unknown option '--output-format'\n")
        return 5
    if mode == "escape":
        escapee = subprocess.Popen([sys.executable, "-c", ESCAPEE])
        emit({"type": "system", "subtype": "escapee", "pid": escapee.pid})
        return 0
    if mode == "env":
        names = sorted(k for k in os.environ if k.startswith("SWITCHBOARD_"))
        emit(
            {
                "type": "system",
                "subtype": "env",
                "names": names,
                "meta": os.environ.get("SWITCHBOARD_META"),
            }
        )
        emit({"type": "result", "subtype": "success", "is_error": False})
        return 0
    if mode == "ask":
        return ask()
    sys.stderr.write(f"fake agent: unknown mode {mode!r}\n")
    return 2


if __name__ == "__main__":
    sys.exit(main())
