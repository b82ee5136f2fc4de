"""A script's whole round over HTTP with the real CLI: add a project, follow its events,
prompt, answer Claude's permission request, see the run end and list it."""

from pathlib import Path

import pytest

from switchboard.scripted_model import Script, ScriptedModelServer
from tests.conftest import ClaudeBinary, ServerFactory
from tests.support.http_api import api, events, stored, until_run_ends
from tests.support.turns import TOUCH

pytestmark = pytest.mark.timeout(120)


async def test_prompt_answer_and_follow_over_http(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    project_dir: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    scripted_model.set_script(Script.of({"tool_use": TOUCH}, {"text": "Finished."}))
    server = servers.start(bundled_claude_bin.path)
    with api(server) as client:
        added = client.post("/api/projects", json={"path": str(project_dir), "name": "site"})
        assert added.status_code == 201
        async with events(server, "site") as stream:
            sent = client.post("/api/projects/site/prompts", json={"text": "create the file"})
            assert sent.status_code == 202
            run = sent.json()["run"]
            asked = None
            while asked is None:
                message = await stream.next(60)
                assert message is not None
                data = message.json.get("data") or {}
                if data.get("type") == "confirmation_required":
                    asked = data["confirmation"]
            assert (asked["kind"], asked["tool_name"]) == ("tool_permission", "Bash")
            answer = client.post(
                f"/api/confirmations/{asked['id']}/answer", json={"response": "allow"}
            )
            assert answer.status_code == 200, answer.text
            seen = await until_run_ends(stream, run["id"])
        listed = client.get("/api/projects/site/runs").json()["runs"]
    final = stored(seen)[-1]["data"]
    assert final["state"] == "completed"
    assert (project_dir / "created.txt").exists()
    assert [(r["id"], r["state"]) for r in listed] == [(run["id"], "completed")]
    assert listed[0]["session_id"] == final["session_id"] and listed[0]["num_turns"]
