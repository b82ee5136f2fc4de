"""Confirmations with the real CLI: Claude asks for a Bash permission, clients answer."""

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from switchboard.client import RequestError, SwitchboardClient
from switchboard.scripted_model import Script, ScriptedModelServer
from tests.conftest import ClaudeBinary, ServerFactory
from tests.support.hub import (
    Followed,
    add_and_watch,
    connect,
    follow,
    next_event,
    prompt_and_follow,
)
from tests.support.server import RunningServer
from tests.support.turns import ASK, TOUCH

pytestmark = pytest.mark.timeout(120)


def denials(seen: Followed) -> list[str]:
    [result] = [
        e["data"] for e in seen.events if e["kind"] == "cli" and e["data"]["type"] == "result"
    ]
    return [d["tool_name"] for d in result["permission_denials"]]


def confirmation_events(seen: Followed) -> list[dict[str, Any]]:
    return [e["data"] for e in seen.events if e["kind"] == "confirmation"]


@pytest.fixture
def touch_script(scripted_model: ScriptedModelServer) -> ScriptedModelServer:
    scripted_model.set_script(Script.of({"tool_use": TOUCH}, {"text": "Finished."}))
    return scripted_model


async def start_run(
    server: RunningServer, project_dir: Path
) -> tuple[SwitchboardClient, str, dict[str, Any]]:
    client = await connect(server)
    project = await add_and_watch(client, project_dir)
    run = await client.prompt(project["id"], "create the file")
    required = await next_event(client, "confirmation_required")
    return client, run["id"], required["confirmation"]


@pytest.mark.parametrize("answer", ["allow", "deny"])
async def test_an_answer_reaches_the_cli(
    servers: ServerFactory,
    claude_bin: ClaudeBinary,
    project_dir: Path,
    touch_script: ScriptedModelServer,
    answer: str,
) -> None:
    server = servers.start(claude_bin.path)
    client, run_id, confirmation = await start_run(server, project_dir)
    async with client:
        assert (confirmation["kind"], confirmation["tool_name"]) == ("tool_permission", "Bash")
        assert confirmation["input"]["command"] == "touch created.txt"
        assert confirmation["options"] == ["allow", "deny"] and confirmation["suggestions"]
        ack = await client.answer(
            confirmation["id"],
            answer,
            message="Not in this directory" if answer == "deny" else None,
        )
        assert ack["confirmation"]["id"] == confirmation["id"]
        seen = await follow(client, run_id)
    assert seen.final["state"] == "completed"
    assert (project_dir / "created.txt").exists() is (answer == "allow")
    assert denials(seen) == ([] if answer == "allow" else ["Bash"])
    [answered] = [c for c in confirmation_events(seen) if c["type"] == "confirmation_answered"]
    assert (answered["response"], answered["by"]) == (answer, "client")


async def test_two_clients_answer_at_once_and_exactly_one_wins(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    touch_script: ScriptedModelServer,
) -> None:
    server = servers.start(bundled_claude_bin.path)
    first, run_id, confirmation = await start_run(server, project_dir)
    async with first, await connect(server) as second:
        await second.subscribe(confirmation["project"])
        answers = await asyncio.gather(
            first.answer(confirmation["id"], "allow"),
            second.answer(confirmation["id"], "deny"),
            return_exceptions=True,
        )
        errors = [a for a in answers if isinstance(a, RequestError)]
        assert len(errors) == 1 and errors[0].code == "already_answered"
        seen_first = await follow(first, run_id)
        seen_second = await follow(second, run_id)
    for seen in (seen_first, seen_second):
        assert [c["type"] for c in confirmation_events(seen)][-1] == "confirmation_answered"
    winner = "allow" if not isinstance(answers[0], RequestError) else "deny"
    assert (project_dir / "created.txt").exists() is (winner == "allow")


async def test_an_unanswered_confirmation_expires_into_a_deny(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    touch_script: ScriptedModelServer,
) -> None:
    server = servers.start(bundled_claude_bin.path, "--permission-timeout", "1")
    client, run_id, confirmation = await start_run(server, project_dir)
    async with client:
        expired = await next_event(client, "confirmation_expired")
        assert (expired["confirmation_id"], expired["reason"], expired["fallback"]) == (
            confirmation["id"],
            "timeout",
            "deny",
        )
        with pytest.raises(RequestError, match="already_answered"):
            await client.answer(confirmation["id"], "allow")
        seen = await follow(client, run_id)
    assert seen.final["state"] == "completed"
    assert denials(seen) == ["Bash"] and not (project_dir / "created.txt").exists()


async def test_a_paused_timer_holds_the_expiry_until_resumed(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    touch_script: ScriptedModelServer,
) -> None:
    server = servers.start(bundled_claude_bin.path, "--permission-timeout", "4")
    client, run_id, confirmation = await start_run(server, project_dir)
    async with client:
        paused = await client.request("pause_timer", confirmation_id=confirmation["id"])
        assert paused["confirmation"]["paused"] is True
        await asyncio.sleep(5)  # past the timeout: nothing may expire while paused
        resumed = await client.request("resume_timer", confirmation_id=confirmation["id"])
        assert resumed["confirmation"]["paused"] is False
        left = resumed["confirmation"]["remaining_seconds"]
        assert left == pytest.approx(paused["confirmation"]["remaining_seconds"], abs=0.1)
        expired = await next_event(client, "confirmation_expired")
        assert expired["reason"] == "timeout"
        await follow(client, run_id)
    async with await connect(server) as viewer:  # the whole story, from the log
        await viewer.subscribe(confirmation["project"], since=0)
        history = await follow(viewer, run_id)
    story = [(c["type"], c.get("paused")) for c in confirmation_events(history)]
    assert story == [
        ("confirmation_required", None),
        ("confirmation_timer", True),
        ("confirmation_timer", False),
        ("confirmation_expired", None),
    ]


async def test_a_client_that_reconnects_sees_the_pending_confirmation_and_answers_it(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    touch_script: ScriptedModelServer,
) -> None:
    server = servers.start(bundled_claude_bin.path)
    first, run_id, confirmation = await start_run(server, project_dir)
    await first.close()
    async with await connect(server) as returner:
        [pending] = returner.snapshot["pending_confirmations"]
        assert pending["id"] == confirmation["id"] and pending["remaining_seconds"] > 0
        with pytest.raises(RequestError, match="not_subscribed"):
            await returner.answer(pending["id"], "allow")
        ack = await returner.request("subscribe", project=pending["project"], since=0)
        assert [c["id"] for c in ack["pending_confirmations"]] == [pending["id"]]
        with pytest.raises(RequestError, match="invalid_option"):
            await returner.answer(pending["id"], "maybe")
        with pytest.raises(RequestError, match="unknown_confirmation"):
            await returner.answer("nope", "allow")
        await returner.answer(pending["id"], "allow")
        seen = await follow(returner, run_id)
    assert seen.final["state"] == "completed" and (project_dir / "created.txt").exists()


async def test_cancelling_a_run_expires_its_confirmation(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    touch_script: ScriptedModelServer,
) -> None:
    server = servers.start(bundled_claude_bin.path, "--interrupt-grace", "2")
    client, run_id, confirmation = await start_run(server, project_dir)
    async with client:
        await client.cancel(confirmation["project"], run_id)
        expired = await next_event(client, "confirmation_expired")
        assert (expired["confirmation_id"], expired["reason"]) == (confirmation["id"], "cancelled")
        seen = await follow(client, run_id)
    assert seen.final["state"] == "cancelled" and not (project_dir / "created.txt").exists()


async def test_a_restart_closes_the_confirmations_of_the_interrupted_run(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    touch_script: ScriptedModelServer,
    tmp_path: Path,
) -> None:
    data = ["--data-dir", str(tmp_path / "shared-data")]
    server = servers.start(bundled_claude_bin.path, *data)
    client, run_id, confirmation = await start_run(server, project_dir)
    await client.close()
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(10)
    again = servers.start(bundled_claude_bin.path, *data)
    async with await connect(again) as viewer:
        assert viewer.snapshot["pending_confirmations"] == []
        await viewer.subscribe(confirmation["project"], since=0)
        history = await follow(viewer, run_id)
    assert history.final["state"] == "interrupted"
    assert [c["type"] for c in confirmation_events(history)] == [
        "confirmation_required",
        "confirmation_expired",
    ]
    assert confirmation_events(history)[-1]["reason"] == "server_restart"


async def test_remember_answers_the_next_identical_request_by_rule(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    scripted_model.set_script(
        Script.of({"tool_use": TOUCH}, {"text": "Done."}, {"tool_use": TOUCH}, {"text": "Again."})
    )
    server = servers.start(bundled_claude_bin.path)
    client, run_id, confirmation = await start_run(server, project_dir)
    async with client:
        project = confirmation["project"]
        await client.answer(
            confirmation["id"],
            "allow",
            remember=True,
        )
        await follow(client, run_id)
        [rule] = (await client.request("permissions.list", project=project))["rules"]
        assert (rule["tool_name"], rule["rule_content"]) == ("Bash", "touch created.txt")
        (project_dir / "created.txt").unlink()
        second = await client.prompt(project, "once more")
        seen = await follow(client, second["id"])  # nobody answers this time
        with pytest.raises(RequestError, match="unknown_rule"):
            await client.request("permissions.remove", project=project, rule="nope")
        await client.request("permissions.remove", project=project, rule=rule["id"])
        assert (await client.request("permissions.list", project=project))["rules"] == []
    assert seen.final["state"] == "completed" and (project_dir / "created.txt").exists()
    answered = [c for c in confirmation_events(seen) if c["type"] == "confirmation_answered"]
    assert [(a["by"], a["rule"]) for a in answered] == [("rule", rule["id"])]


@pytest.mark.parametrize("answer", ["Blue", "Green, please"])
async def test_a_question_answered_with_an_option_or_free_text_reaches_the_model(
    servers: ServerFactory,
    claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
    answer: str,
) -> None:
    scripted_model.set_script(Script.of({"tool_use": ASK}, {"text": "Noted."}))
    server = servers.start(claude_bin.path)
    client, run_id, confirmation = await start_run(server, project_dir)
    async with client:
        assert (confirmation["kind"], confirmation["options"]) == ("question", ["Red", "Blue"])
        with pytest.raises(RequestError, match="invalid_option"):
            await client.answer(
                confirmation["id"],
                "x",
                answers={"Another question?": "Blue"},
            )
        await client.answer(confirmation["id"], answer)
        seen = await follow(client, run_id)
    assert seen.final["state"] == "completed"
    assert f'\\"Which color?\\"=\\"{answer}\\"' in scripted_model.conversation_requests[-1].text()
    [answered] = [c for c in confirmation_events(seen) if c["type"] == "confirmation_answered"]
    assert answered["response"] == answer


def init_modes(seen: Followed) -> list[str]:
    return [
        e["data"]["permissionMode"]
        for e in seen.events
        if e["kind"] == "cli" and e["data"].get("subtype") == "init"
    ]


async def test_permission_modes_per_project_and_switched_during_a_run(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    scripted_model.set_script(
        Script.of({"text": "Planned."}, {"text": "Slow.", "hold": "slow"}, {"text": "Editing."})
    )
    server = servers.start(bundled_claude_bin.path)
    async with await connect(server) as client:
        project = await add_and_watch(client, project_dir)
        with pytest.raises(RequestError, match="permission_mode_not_allowed"):
            await client.request(
                "permission_mode.set", project=project["id"], mode="bypassPermissions"
            )
        ack = await client.request("permission_mode.set", project=project["id"], mode="plan")
        assert ack["project"]["permission_mode"] == "plan"
        planned = await prompt_and_follow(client, project["id"], "plan it")
        assert init_modes(planned) == ["plan"]

        slow = await client.prompt(project["id"], "take your time")
        assert await asyncio.to_thread(scripted_model.wait_for_requests, 2, 30)
        await client.request("permission_mode.set", project=project["id"], mode="acceptEdits")
        scripted_model.release("slow")
        during = await follow(client, slow["id"])
        changes = [e["data"] for e in during.events if e["kind"] == "permission_mode"]
        assert changes == [
            {
                "type": "permission_mode",
                "mode": "acceptEdits",
                "run": slow["id"],
                "by": "server token",
            }
        ]
        after = await prompt_and_follow(client, project["id"], "edit now")
    assert init_modes(after) == ["acceptEdits"]
    assert len(servers.spawned_argv()) == 1  # switched in place: no restart


async def test_on_confirmation_runs_a_command_with_the_confirmation_on_stdin(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    touch_script: ScriptedModelServer,
    tmp_path: Path,
) -> None:
    out = tmp_path / "notified.json"
    script = tmp_path / "notify.py"
    script.write_text("import sys\nopen(sys.argv[1], 'w').write(sys.stdin.read())\n")
    command = f"{sys.executable} {script} {out}"
    server = servers.start(bundled_claude_bin.path, "--on-confirmation", command)
    client, run_id, confirmation = await start_run(server, project_dir)
    async with client:
        async with asyncio.timeout(20):
            while not out.exists() or not out.read_text():
                await asyncio.sleep(0.05)
        assert json.loads(out.read_text())["id"] == confirmation["id"]
        await client.answer(confirmation["id"], "allow")
        assert (await follow(client, run_id)).final["state"] == "completed"


async def test_a_failing_notification_command_blocks_nothing(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    touch_script: ScriptedModelServer,
    tmp_path: Path,
) -> None:
    server = servers.start(
        bundled_claude_bin.path, "--on-confirmation", str(tmp_path / "no-such-command")
    )
    client, run_id, confirmation = await start_run(server, project_dir)
    async with client:
        await client.answer(confirmation["id"], "allow")
        assert (await follow(client, run_id)).final["state"] == "completed"
    assert "--on-confirmation could not start" in server.log()


async def test_time_spent_asking_a_person_does_not_count_against_the_run_timeout(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    touch_script: ScriptedModelServer,
) -> None:
    server = servers.start(
        bundled_claude_bin.path, "--run-timeout", "8", "--permission-timeout", "30"
    )
    client, run_id, confirmation = await start_run(server, project_dir)
    async with client:
        await asyncio.sleep(9)  # longer than the run timeout: the person is thinking
        await client.answer(confirmation["id"], "allow")
        seen = await follow(client, run_id)
    assert seen.final["state"] == "completed" and (project_dir / "created.txt").exists()
