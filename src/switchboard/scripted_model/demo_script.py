"""The script of ``switchboard serve --demo``: one tour of every feature per prompt.

Each prompt gets the same five turns, and the script loops, so any number of prompts
work: Markdown with a table and code, then a Bash command that needs approval; a
question with options; reading the notes file; an edit of it that needs approval and
shows a diff; a closing summary. The model is scripted, so it cannot react to what the
person answers; the texts say so.
"""

from pathlib import Path
from typing import Any

from switchboard.scripted_model.script import Script

NOTES_FILE = "notes.md"
LOG_HEADING = "## Log\n"
"""The edit inserts a line under this heading, which it keeps: every loop can edit."""
LOG_LINE = "- Claude added this line; you approved the edit in Switchboard.\n"
LISTING_COMMAND = "ls -la && sh hello.sh"
"""Lists the project and runs its script: running a program makes the CLI ask first
(a listing alone is read-only, and the CLI would allow it without asking)."""
CHUNK_DELAY = 0.03
"""Seconds between streamed pieces, so text is seen typing."""

PROJECT_FILES = {
    "README.md": (
        "# Demo project\n\n"
        "A small directory for Switchboard's offline demo (`switchboard serve --demo`).\n"
        "Claude's replies come from a built-in script; the tools it uses are real.\n"
    ),
    NOTES_FILE: (
        "# Notes\n\nEach demo prompt ends with Claude adding a line to the log below.\n\n"
        + LOG_HEADING
    ),
    "hello.sh": 'echo "Hello from the Switchboard demo"\n',
}
"""The demo project's files (written when missing)."""

WELCOME = """\
# Welcome to the Switchboard demo

This reply comes from a **scripted model**, so the demo runs offline and costs nothing.
The Claude Code CLI is real, though: it runs real tools in the project `demo`.

In this run you will see:

- text streamed as it is typed, with Markdown and code;
- a command that waits for **your approval**;
- a **question** with options;
- an **edit** shown as a diff, again waiting for approval.

| step | tool | asks you? |
|---|---|---|
| list the files, run `hello.sh` | `Bash` | yes |
| pick an option | `AskUserQuestion` | yes |
| read the notes | `Read` | no |
| edit the notes | `Edit` | yes |

Any client sees the same run live, for example the Python client:

```python
async with await SwitchboardClient.connect(url, token) as client:
    await client.subscribe("demo", since=0)
    run = await client.prompt("demo", "Show me around")
```

First, let me list the files here and run the project's script.
"""

QUESTION = {
    "questions": [
        {
            "question": "What should I add to the notes?",
            "header": "Notes",
            "multiSelect": False,
            "options": [
                {"label": "A log line", "description": "one line under the Log heading"},
                {"label": "A greeting", "description": "a friendly hello"},
            ],
        }
    ]
}

SUMMARY = """\
## Done

- Listed the files and ran `hello.sh` with `Bash`, after you approved it.
- Asked you a question; your answer went back to the model with the tool's result.
- Edited `notes.md`; the diff above shows the new line.

A scripted model follows its script whatever you answer. Send another prompt to see
it all again, or run `switchboard serve` without `--demo` to work with Claude for real.
"""


def demo_script(project: Path) -> Script:
    """The looping demo script for the project at ``project`` (tools need absolute paths)."""
    notes = str(project / NOTES_FILE)
    edit = {"file_path": notes, "old_string": LOG_HEADING, "new_string": LOG_HEADING + LOG_LINE}
    bash = {"command": LISTING_COMMAND, "description": "List the files and run hello.sh"}
    turns: list[dict[str, Any]] = [
        {"text": WELCOME, "tool_use": {"name": "Bash", "input": bash}},
        {
            "text": "Those are the project's files. Before I change anything, a question:",
            "tool_use": {"name": "AskUserQuestion", "input": QUESTION},
        },
        {
            "text": "Thanks. Now I read the notes, which needs no approval:",
            "tool_use": {"name": "Read", "input": {"file_path": notes}},
        },
        {
            "text": "And add a line to their log. Edits ask first, and show a diff:",
            "tool_use": {"name": "Edit", "input": edit},
        },
        {"text": SUMMARY},
    ]
    return Script.model_validate(
        {"turns": [{**turn, "chunk_delay": CHUNK_DELAY} for turn in turns], "loop": True}
    )


def write_project(project: Path) -> None:
    """Create the demo project's directory and any of its files that are missing."""
    project.mkdir(parents=True, exist_ok=True)
    for name, text in PROJECT_FILES.items():
        path = project / name
        if not path.exists():
            path.write_text(text, encoding="utf-8")
