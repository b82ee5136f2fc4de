"""What an audit entry keeps of a request: enough to tell what was asked, never much."""

import json

from switchboard.server.audit_trail import MAX_DETAIL_BYTES, audited, bounded, shortened


def test_an_entry_s_detail_stays_small_whatever_the_request_held() -> None:
    huge = {
        "project": "alpha",
        "text": "x" * 5000,
        "updated_input": {f"k{n}": "v" * 900 for n in range(200)},
        "answers": [["a" * 900] * 60],
    }
    detail = bounded(huge)
    assert len(json.dumps(detail)) <= MAX_DETAIL_BYTES
    assert detail["project"] == "alpha"
    assert detail["omitted"] == ["answers", "text", "updated_input"]
    assert bounded({"text": "hello"}) == {"text": "hello"}
    assert shortened({"text": "y" * 2000})["text"] == "y" * 1000 + "…"


def test_what_is_audited() -> None:
    assert [audited(t) for t in ("prompt", "confirmation_response", "project.add")] == [True] * 3
    assert [audited(t) for t in ("token.create", "project.budget", "token.revoke")] == [True] * 3
    assert [audited(t) for t in ("subscribe", "token.list", "audit.list", "heartbeat")] == [
        False
    ] * 4
