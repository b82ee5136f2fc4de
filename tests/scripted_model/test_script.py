import pytest
from pydantic import ValidationError

from switchboard.scripted_model.script import Script, TextBlock, ThinkingBlock, ToolUseBlock, Turn


def test_shorthands_expand_in_a_fixed_order() -> None:
    turn = Turn.model_validate(
        {"tool_use": {"name": "Bash", "input": {"command": "ls"}}, "text": "hi", "thinking": "hm"}
    )
    assert [type(b) for b in turn.blocks] == [ThinkingBlock, TextBlock, ToolUseBlock]
    assert turn.effective_stop_reason == "tool_use"


def test_several_tool_uses() -> None:
    turn = Turn.model_validate({"tool_use": [{"name": "Read"}, {"name": "Bash"}]})
    assert [b.name for b in turn.blocks if isinstance(b, ToolUseBlock)] == ["Read", "Bash"]


def test_text_only_turn_ends_the_turn() -> None:
    assert Turn.model_validate({"text": "x"}).effective_stop_reason == "end_turn"


def test_empty_turn_is_rejected() -> None:
    with pytest.raises(ValidationError, match="needs blocks"):
        Turn.model_validate({})


def test_unknown_keys_are_rejected() -> None:
    with pytest.raises(ValidationError):
        Turn.model_validate({"text": "x", "dealy": 3})


def test_negative_delay_is_rejected() -> None:
    with pytest.raises(ValidationError):
        Turn.model_validate({"text": "x", "delay": -1})


def test_script_from_file(tmp_path: pytest.TempPathFactory) -> None:
    path = tmp_path / "script.json"  # type: ignore[operator]
    path.write_text('{"turns": [{"text": "a"}, {"error": {"status": 529}}]}')
    script = Script.from_file(path)
    assert len(script.turns) == 2
    error = script.turns[1].error
    assert error is not None and error.status == 529
