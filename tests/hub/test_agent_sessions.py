"""The processes the hub launched on a remote agent, while a cluster's node takes the
agent's projects over: what the agent says of processes not known yet is held, not
acknowledged, until the projects are settled here."""

import asyncio

from switchboard.agents.remote.driver import RemoteConnection
from switchboard.hub.agent_sessions import MAX_HELD_CHARS, AgentSessions


async def test_news_of_unknown_processes_waits_for_the_projects_to_settle() -> None:
    sessions = AgentSessions("laptop", grace=60)
    acks: list[int] = []
    adopting: list[str] = []
    has = ["s1", "s2", "s3"]
    strangers, adopted = sessions.linked("spool", has, acks.append, adopting.append)
    assert (strangers, adopted) == (has, [])  # (a single server stops them now)
    sessions.hold()
    assert sessions.receipts.take(1)
    sessions.keep("news of s1", 10, sessions.finisher(1))
    await sessions.room()  # (little is held: no wait)
    # The takeover takes s1's process back: not adopted over the link yet.
    sessions.adopt(RemoteConnection(lambda: None, "s1", None, sessions.by_key, (0, 0)))
    assert adopting == []
    held, strangers, adopted = sessions.settled()
    assert [message for message, _finished in held] == ["news of s1"]
    assert (strangers, adopted) == (["s2", "s3"], ["s1"])
    assert acks == []  # nothing acknowledged before it is delivered and finished
    held[0][1]()
    assert acks == [1]
    sessions.adopt(RemoteConnection(lambda: None, "s3", None, sessions.by_key, (0, 0)))
    assert adopting == ["s3"]  # one the agent has, taken back later: adopted at once


async def test_a_node_that_gave_processes_up_counts_the_agents_messages_afresh() -> None:
    sessions = AgentSessions("laptop", grace=60)
    acks: list[int] = []
    sessions.linked("spool", [], acks.append)
    assert sessions.receipts.take(5)
    stale = sessions.finisher(5)
    sessions.forget()  # a project of the agent went to another node
    sessions.unlinked()
    sessions.linked("spool", [], acks.append)
    assert sessions.receipts.take(5)  # sent again: taken again, not dropped
    stale()  # what was taken before counts for nothing now
    assert acks == []
    sessions.finisher(5)()
    assert acks == [5]


async def test_a_process_taken_back_that_the_agent_does_not_have_is_lost_at_settling() -> None:
    sessions = AgentSessions("laptop", grace=60)
    adopting: list[str] = []
    sessions.linked("spool", ["s1"], lambda _seq: None, adopting.append)
    sessions.hold()
    gone = RemoteConnection(lambda: None, "s9", None, sessions.by_key, (3, 0))
    sessions.adopt(gone)  # its run's mark names a process the agent no longer has
    _held, strangers, adopted = sessions.settled()
    assert (strangers, adopted) == (["s1"], [])
    assert gone.lost and "s9" not in sessions.by_key  # its run ends, not waits forever
    late = RemoteConnection(lambda: None, "s8", None, sessions.by_key, (3, 0))
    sessions.adopt(late)
    assert late.lost and adopting == []


async def test_forgetting_drops_what_was_held_and_acknowledges_nothing_until_the_next_link() -> (
    None
):
    sessions = AgentSessions("laptop", grace=60)
    acks: list[int] = []
    sessions.linked("spool", [], acks.append)
    sessions.hold()
    assert sessions.receipts.take(1)
    sessions.keep("news", 4, sessions.finisher(1))
    sessions.forget()  # the node lets a project of the agent go
    assert not sessions.holding
    assert sessions.receipts.take(1)  # (still read while the link closes)
    sessions.finisher(1)()
    assert acks == []  # the agent sends it again, to the node it links to next
    held, _strangers, _adopted = sessions.settled()
    assert held == []


async def test_past_the_bound_of_what_is_held_the_link_waits_for_the_settling() -> None:
    sessions = AgentSessions("laptop", grace=60)
    sessions.linked("spool", [], lambda _seq: None)
    sessions.hold()
    for seq in (1, 2):
        assert sessions.receipts.take(seq)
        sessions.keep(f"news {seq}", MAX_HELD_CHARS // 2 + 1, sessions.finisher(seq))
    waiting = asyncio.ensure_future(sessions.room())
    await asyncio.sleep(0)  # (one turn of the loop: it would be done now if it did not wait)
    assert not waiting.done()  # the link stops reading
    held, _strangers, _adopted = sessions.settled()
    await asyncio.wait_for(waiting, 1)
    assert [message for message, _finished in held] == ["news 1", "news 2"]
