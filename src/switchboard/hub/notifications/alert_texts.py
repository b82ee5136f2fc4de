"""What an alert says: a title and a few lines, from a confirmation or a run's end.

Texts are clipped (a push payload must stay well under 4 KiB once encrypted, and a
notification shows a few lines anyway). Pure functions: no I/O, no clock of their own.
"""

from switchboard.protocol.messages import ConfirmationInfo, RunInfo
from switchboard.protocol.push import Alert, AlertKind

TITLE_CHARS = 120
BODY_CHARS = 600
NAME_CHARS = 80


def clip(text: str, limit: int) -> str:
    flat = text.strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def confirmation_alert(confirmation: ConfirmationInfo, project_name: str, now: float) -> Alert:
    name = clip(project_name, NAME_CHARS)
    kind: AlertKind = "question" if confirmation.kind in ("question", "skill") else "confirmation"
    asks, detail = _what_is_asked(confirmation)
    return Alert(
        kind=kind,
        project=confirmation.project,
        project_name=name,
        title=clip(f"{name}: {asks}", TITLE_CHARS),
        body=clip(detail, BODY_CHARS),
        tag=confirmation.id,
        run=confirmation.run,
        confirmation=confirmation.id,
        at=now,
    )


def run_alert(run: RunInfo, project_name: str, now: float) -> Alert | None:
    """A completed or failed run's alert; None for a run that ended otherwise (a
    client cancelled it, the server stopped it)."""
    if run.state not in ("completed", "failed"):
        return None
    name = clip(project_name, NAME_CHARS)
    subject = "Claude's follow-up" if run.origin == "claude" else "run"
    completed = run.state == "completed"
    kind: AlertKind = "run_completed" if completed else "run_failed"
    title = f"{name}: {subject} {'finished' if completed else 'failed'}"
    lines = [] if run.origin == "claude" else [clip(run.prompt, 200)]
    if run.error:
        lines.append(run.error)
    if run.cost_usd:
        lines.append(f"${run.cost_usd:.4f}")
    return Alert(
        kind=kind,
        project=run.project,
        project_name=name,
        title=clip(title, TITLE_CHARS),
        body=clip("\n".join(lines), BODY_CHARS),
        tag=run.id,
        run=run.id,
        at=now,
    )


def _what_is_asked(confirmation: ConfirmationInfo) -> tuple[str, str]:
    """(what Claude or the skill asks, in a few words; the detail)."""
    match confirmation.kind:
        case "skill":
            skill = confirmation.skill
            who = skill.skill_id if skill is not None else "a skill"
            return f"{who} asks", skill.prompt if skill is not None else ""
        case "question":
            return "Claude asks a question", confirmation.summary or ""
        case "plan":
            return "Claude asks to approve its plan", confirmation.plan or ""
        case "approval":
            approval = confirmation.approval
            if approval is None:
                return "Claude asks to approve its changes", ""
            files = ", ".join(change.path for change in approval.changes)
            return "Claude asks to approve its changes", f"{approval.summary}\n{files}"
        case _:
            tool = confirmation.tool_name or "a tool"
            return f"Claude asks to use {tool}", confirmation.summary or ""


MAX_PAYLOAD_BYTES = 3000
"""An alert's JSON at most: Web Push carries about 3990 bytes of payload once
encrypted, and escapes can make JSON several times longer than its text."""


def fitted(alert: Alert) -> Alert:
    """The alert, its body shortened until its JSON fits in :data:`MAX_PAYLOAD_BYTES`."""
    while len(alert.model_dump_json().encode()) > MAX_PAYLOAD_BYTES and alert.body:
        shorter = clip(alert.body, len(alert.body) // 2) if len(alert.body) > 2 else ""
        alert = alert.model_copy(update={"body": shorter})
    return alert
