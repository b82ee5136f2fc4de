"""Hypothesis strategies for the fuzz tests: ``/ws`` client messages, ``/ws/claude``
prompt frames and CLI output lines, valid, mutated, and shaped to trip JSON readers up.

JSON is built as text by :func:`encode`, so that it may hold what Python's ``json``
cannot write: an integer of 5000 digits, arrays nested thousands deep (:class:`Raw`).
Lone surrogates come from strings drawn from the surrogate range, which ``json.dumps``
writes as ``\\udXXX`` escapes.
"""

import contextlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("SWITCHBOARD_FUZZ_EXAMPLES") or 0)
"""Examples per fuzz test (0: each test's own default, sized for the suite)."""
SECONDS = float(os.environ.get("SWITCHBOARD_FUZZ_SECONDS") or 12)
"""Time each fuzz test may spend on examples; the ones past it return at once."""


class Budget:
    """A fuzz test's time, from its first example on. Examples past it do nothing, unless
    one has failed: then Hypothesis replays and shrinks it for real.

    Draw an example's data before asking :meth:`spent` (a replayed example must draw
    what it drew the first time), and run its body under :meth:`running`."""

    def __init__(self, seconds: float = SECONDS) -> None:
        self.seconds = seconds
        self._deadline: float | None = None
        self.failed = False
        self.run = 0

    def spent(self) -> bool:
        now = time.monotonic()
        if self._deadline is None:
            self._deadline = now + self.seconds
        if now > self._deadline and not self.failed:
            return True
        self.run += 1
        return False

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        try:
            yield
        except BaseException:
            self.failed = True
            raise


@dataclass(frozen=True)
class Raw:
    """JSON text written as it is."""

    text: str


MAX_LINE = 8192
"""The ``--max-line-bytes`` of the fuzzed server: the body's ``pad`` lines exceed it."""
HUGE = Raw("9" * 5000)


def deep(levels: int) -> Raw:
    return Raw("[" * levels + "]" * levels)


def encode(value: Any) -> str:
    """``value`` as JSON text; :class:`Raw` parts verbatim, strings ASCII-escaped."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{encode(k)}:{encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(encode(item) for item in value) + "]"
    return json.dumps(value)


surrogates = st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1)
texts = st.one_of(
    st.text(max_size=20),
    st.builds(lambda a, s, b: a + s + b, st.text(max_size=5), surrogates, st.text(max_size=5)),
    st.sampled_from(["", "\x00", "\n", "\u2028", "\U0001f600", "../..", "~"]),
)
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=2**63 - 2, max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.just(HUGE),
    st.just(Raw("1e400")),
    st.just(Raw("-0")),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=12,
)
"""Any JSON, shallow, with the awkward scalars."""
readable_nests = st.sampled_from([deep(40), deep(65), deep(200)])
"""Deeper than Switchboard reads values from, but within what Python's json reads."""
nests = readable_nests | st.sampled_from([deep(1000), deep(3000)])
awkward = json_values | nests
readable = json_values | readable_nests
"""What a ``result`` line may hold and still be read as one: a result too deep for
Python's json is a ``cli_error`` line (as in the body), and the run then ends only when
the CLI exits or by ``--run-timeout``, which is not what this fuzzer waits for."""

# -- /ws ------------------------------------------------------------------------------

ids = st.one_of(st.none(), st.integers(-(2**40), 2**40), st.text(max_size=12), surrogates)
PROJECTS = ("fuzz", "nope", "/no/such/dir", "~nobody-here/x")


def ws_messages(fuzz_path: str) -> st.SearchStrategy[dict[str, Any]]:
    """Well-formed requests of every kind, for the project ``fuzz`` (at ``fuzz_path``),
    for projects that do not exist, and with plausible field values."""
    project = st.sampled_from([*PROJECTS, fuzz_path]) | texts
    small = st.integers(min_value=-2, max_value=50)
    skill_events = st.one_of(
        st.fixed_dictionaries(
            {"type": st.just("skill_started"), "skill_id": texts, "name": texts},
            optional={"total_steps": small, "inputs": st.dictionaries(texts, awkward)},
        ),
        st.fixed_dictionaries(
            {"type": st.sampled_from(["step_started", "step_failed", "skill_failed"])},
            optional={"skill_id": texts, "step_index": small, "name": texts, "error": texts},
        ),
        st.fixed_dictionaries({"type": st.just("intent_classified"), "intent": texts}),
    )
    shapes: dict[str, dict[str, st.SearchStrategy[Any]]] = {
        "heartbeat": {},
        "subscribe": {"project": project, "since": small},
        "unsubscribe": {"project": project},
        "prompt": {
            "project": project,
            "text": texts,
            "options": st.fixed_dictionaries(
                {},
                optional={
                    "model": texts,
                    "permission_mode": st.sampled_from(["default", "plan", "bypassPermissions"]),
                },
            ),
        },
        "cancel": {"project": project, "run": texts},
        "project.add": {"path": st.sampled_from([fuzz_path, "/no/such/dir", "/"]) | texts},
        "project.list": {},
        "project.remove": {"project": st.sampled_from(["nope", "/no/such/dir"]) | texts},
        "session.new": {"project": project},
        "session.list": {"project": project},
        "session.use": {"project": project, "session": texts},
        "confirmation_response": {
            "confirmation_id": texts,
            "response": st.sampled_from(["allow", "deny"]) | texts,
            "updated_input": st.dictionaries(texts, awkward, max_size=3),
            "answers": st.dictionaries(texts, texts, max_size=2),
        },
        "pause_timer": {"confirmation_id": texts},
        "resume_timer": {"confirmation_id": texts},
        "permissions.list": {"project": project},
        "permissions.remove": {"project": project, "rule": texts},
        "permission_mode.set": {
            "project": project,
            "mode": st.sampled_from([None, "default", "acceptEdits", "bypassPermissions"]),
        },
        "skill.event": {"project": project, "event": skill_events},
        "confirmation.request": {
            "project": project,
            "skill_id": texts,
            "step_index": small,
            "prompt": texts,
            "options": st.lists(texts, max_size=3),
            "timeout_seconds": st.sampled_from([0.05, 0.5, 1e9, -1]),
        },
        "confirmation.withdraw": {"confirmation_id": texts},
        "token.list": {},
        "token.revoke": {"token": texts},
    }
    return st.one_of(
        [
            st.fixed_dictionaries({"type": st.just(kind)}, optional={"id": ids, **fields})
            for kind, fields in shapes.items()
        ]
    )


@st.composite
def mutated(draw: st.DrawFn, messages: st.SearchStrategy[dict[str, Any]]) -> Any:
    """A request with a field dropped, replaced by any JSON, or added; or a ``type``
    that is not a string; or not an object at all."""
    message = dict(draw(messages))
    how = draw(st.sampled_from(["drop", "replace", "add", "type", "whole"]))
    keys = sorted(message, key=str)
    if how == "drop" and keys:
        message.pop(draw(st.sampled_from(keys)))
    elif how == "replace" and keys:
        message[draw(st.sampled_from(keys))] = draw(awkward)
    elif how == "add":
        message[draw(texts)] = draw(awkward)
    elif how == "type":
        message["type"] = draw(awkward)
    else:
        return draw(awkward)
    return message


@dataclass(frozen=True)
class Frame:
    """What a client sends: JSON text in a text frame, in ``fragments``, as a
    ``binary`` frame, or as a text frame that is not UTF-8."""

    how: Literal["text", "fragments", "binary", "not_utf8"]
    payload: str

    def size(self) -> int:
        return len(self.payload.encode("utf-8", "surrogatepass"))


def frames(json_texts: st.SearchStrategy[str], max_message: int) -> st.SearchStrategy[Frame]:
    """Frames of the given JSON, plus every kind of frame that is bad as a frame."""
    plain = json_texts.map(lambda text: Frame("text", text))
    odd = st.one_of(
        json_texts.map(lambda text: Frame("fragments", text)),
        json_texts.map(lambda text: Frame("binary", text)),
        st.just(Frame("not_utf8", '{"type": "heartbeat", "id": "\xff"}')),
        st.sampled_from(["{nope", "", "[1, 2]", '"str"', "null", "9" * 5000]).map(
            lambda text: Frame("text", text)
        ),
        st.integers(max_message + 1, 2 * max_message).map(
            lambda size: Frame("text", '{"type": "heartbeat", "pad": "' + "x" * size + '"}')
        ),
        st.integers(max_message + 1, 2 * max_message).map(
            lambda size: Frame("fragments", '{"type": "heartbeat", "pad": "' + "x" * size + '"}')
        ),
    )
    return st.one_of(plain, plain, plain, odd)


def ws_frames(fuzz_path: str, max_message: int) -> st.SearchStrategy[Frame]:
    messages = ws_messages(fuzz_path)
    shaped = st.one_of(messages, messages, mutated(messages), awkward)
    return frames(shaped.map(encode), max_message)


# -- /ws/claude -----------------------------------------------------------------------

metas = st.from_regex(r"[A-Z0-9_\-]{1,12}", fullmatch=True) | texts
prompt_requests = st.fixed_dictionaries(
    {}, optional={"prompt": texts | st.text(min_size=8000, max_size=8300), "meta": metas}
)


def claude_frames(max_message: int) -> st.SearchStrategy[Frame]:
    prompts = st.one_of(prompt_requests, mutated(prompt_requests), awkward)
    return frames(prompts.map(encode), max_message)


# -- CLI output lines -----------------------------------------------------------------

CONTROL_TYPES = ("control_request", "control_response", "control_cancel_request", "result")
line_types = st.sampled_from(
    ["assistant", "user", "system", "stream_event", "rate_limit_event", "tool_progress"]
) | texts.filter(lambda kind: kind not in CONTROL_TYPES)
tool_uses = st.fixed_dictionaries(
    {
        "type": st.just("tool_use"),
        "name": st.sampled_from(["Write", "Edit", "ScheduleWakeup", "Bash", "ExitPlanMode"]),
        "input": st.fixed_dictionaries(
            {},
            optional={
                "file_path": texts,
                "delaySeconds": numbers,
                "stop": json_values,
                "command": texts,
            },
        ),
    }
)
blocks = st.one_of(
    tool_uses,
    st.fixed_dictionaries({"type": st.just("text"), "text": texts | awkward}),
    st.fixed_dictionaries(
        {"type": st.just("tool_result"), "content": texts | awkward, "is_error": json_values}
    ),
)
objects = st.fixed_dictionaries(
    {"type": line_types},
    optional={
        "subtype": st.sampled_from(["init", "task_started", "task_notification", "status"]) | texts,
        "message": st.fixed_dictionaries({}, optional={"content": st.lists(blocks, max_size=3)})
        | awkward,
        "session_id": texts,
        "task_id": json_values,
        "tasks": st.lists(st.dictionaries(st.just("task_id"), json_values), max_size=2),
        "status": texts,
        "extra": awkward,
    },
)
results = st.fixed_dictionaries(
    {"type": st.just("result"), "is_error": st.booleans()},
    optional={
        "subtype": texts,
        "result": texts | readable,
        "errors": st.lists(texts, max_size=2) | readable,
        "num_turns": numbers,
        "duration_ms": numbers,
        "total_cost_usd": numbers,
        "usage": readable,
        "session_id": texts,
    },
)


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


body_lines = st.one_of(
    objects.map(lambda line: _bytes(encode(line))),
    objects.map(lambda line: _bytes(encode(line))),
    st.binary(max_size=40).map(lambda raw: raw.replace(b"\n", b" ")),
    st.sampled_from([b"", b"   ", b"not json", b"[1, 2]", b'"str"', b"\xff\xfe{", b"9" * 5000]),
    st.just(b'{"type":"x","a":' + b"[" * 3000 + b"]" * 3000 + b"}"),
    st.integers(9000, 12000).map(lambda size: b'{"type":"assistant","pad":"' + b"x" * size + b'"}'),
)
result_lines = results.map(lambda result: _bytes(encode(result))).filter(
    lambda line: len(line) <= MAX_LINE
)
"""A ``result`` line too long to read is a ``cli_error`` like any other (the body has
those); the run would then end only by ``--run-timeout``."""
cli_outputs = st.builds(
    lambda body, result: [*body, result], st.lists(body_lines, max_size=6), result_lines
)
"""What the CLI prints for one turn: lines of every kind, then a ``result``."""
