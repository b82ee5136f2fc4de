"""The agent program's pure parts: where it dials, how long it waits between dials,
and how the hub reads what it sends."""

import pytest

from switchboard.protocol.agent_link import (
    LinkCommand,
    LinkError,
    LinkHello,
    LinkToolCall,
    LinkWithdrawn,
    parse_from_agent,
    parse_from_hub,
)
from switchboard.remote_agent.link import (
    BACKOFF_FIRST,
    BACKOFF_MAX,
    addresses,
    agent_url,
    backoff,
)


def test_agent_url_is_the_hubs_ws_agent_path() -> None:
    assert agent_url("http://hub:9876") == "ws://hub:9876/ws/agent"
    assert agent_url("https://hub.example/") == "wss://hub.example/ws/agent"
    assert agent_url("wss://hub/some/page?x=1") == "wss://hub/ws/agent"
    assert agent_url("hub:1") == "ws://hub:1/ws/agent"


def test_several_hub_addresses_are_a_comma_separated_list() -> None:
    assert addresses("http://a:1") == ["http://a:1"]
    assert addresses(" http://a:1, http://b:2 ,") == ["http://a:1", "http://b:2"]
    with pytest.raises(ValueError, match="no hub address"):
        addresses(" , ")


def test_backoff_doubles_to_a_bound_with_jitter_below_it() -> None:
    assert backoff(1, lambda: 1.0) == BACKOFF_FIRST
    assert backoff(1, lambda: 0.0) == BACKOFF_FIRST / 2
    assert backoff(3, lambda: 1.0) == BACKOFF_FIRST * 4
    assert backoff(50, lambda: 1.0) == BACKOFF_MAX
    assert backoff(10_000, lambda: 0.0) == BACKOFF_MAX / 2


def test_the_hub_reads_an_agents_messages_or_says_what_is_wrong() -> None:
    hello = parse_from_agent('{"type":"hello","version":"1","allowed_roots":["/src"]}')
    assert isinstance(hello, LinkHello) and hello.name is None
    too_many_roots = (
        '{"type":"hello","version":"1","allowed_roots":[' + ",".join(['"/"'] * 65) + "]}"
    )
    cases = {
        "{": "bad_json",
        '"hello"': "bad_message",
        '{"type":"welcome"}': "unknown_type",
        '{"type":"hello","version":"1","allowed_roots":[],"extra":1}': "bad_message",
        too_many_roots: "bad_message",
        '{"type":"heartbeat","sent_at":"\\ud800"}': "bad_message",
    }
    for text, code in cases.items():
        error = parse_from_agent(text)
        assert isinstance(error, LinkError), text
        assert error.code == code, (text, error)


def test_tool_calls_and_their_results_travel_the_link() -> None:
    call = '{"type":"tool_call","seq":3,"session":"s1","call":{"call_id":"r1"}}'
    told = parse_from_agent(call)
    assert isinstance(told, LinkToolCall) and told.call == {"call_id": "r1"}
    closed = parse_from_agent('{"type":"withdrawn","seq":4,"session":"s1","request_id":"r1"}')
    assert isinstance(closed, LinkWithdrawn)
    for bad in (
        '{"type":"tool_call","seq":3,"session":"s1"}',
        '{"type":"tool_call","seq":0,"session":"s1","call":{}}',
        '{"type":"tool_call","seq":3,"session":"","call":{}}',
        '{"type":"tool_call","seq":3,"session":"s1","call":[]}',
    ):
        error = parse_from_agent(bad)
        assert isinstance(error, LinkError) and error.code == "bad_message", bad
    result = parse_from_hub(
        '{"type":"command","id":9,"op":"tool_result","session":"s1",'
        '"args":{"call_id":"r1","result":{"text":"ok","is_error":false}}}'
    )
    assert isinstance(result, LinkCommand) and result.op == "tool_result"
