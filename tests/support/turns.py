"""Scripted-model tool uses that several test modules ask the real CLI to make."""

TOUCH = {"name": "Bash", "input": {"command": "touch created.txt", "description": "Create"}}
"""A Bash command that needs permission and leaves a visible trace."""

ASK = {
    "name": "AskUserQuestion",
    "input": {
        "questions": [
            {
                "question": "Which color?",
                "header": "Color",
                "multiSelect": False,
                "options": [
                    {"label": "Red", "description": "warm"},
                    {"label": "Blue", "description": "cool"},
                ],
            }
        ]
    },
}
"""One question with two options."""
