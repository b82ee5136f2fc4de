import itertools

from hypothesis import given
from hypothesis import strategies as st

from switchboard.protocol.lines import LineEvent, LineSplitter, OverlongLine


def split_all(chunks: list[bytes], limit: int = 1000) -> list[LineEvent]:
    splitter = LineSplitter(limit)
    events: list[LineEvent] = []
    for chunk in chunks:
        events += splitter.feed(chunk)
    return events + splitter.finish()


def test_lines_split_on_newline() -> None:
    assert split_all([b"a\nbc\n"]) == [b"a", b"bc"]


def test_line_split_across_chunks_is_joined() -> None:
    assert split_all([b"ab", b"c\nd", b"e\n"]) == [b"abc", b"de"]


def test_unterminated_last_line_is_returned_at_end() -> None:
    assert split_all([b"a\nlast"]) == [b"a", b"last"]


def test_empty_lines_are_kept_for_the_decoder_to_skip() -> None:
    assert split_all([b"\n\n"]) == [b"", b""]


def test_overlong_line_is_dropped_and_the_next_line_survives() -> None:
    events = split_all([b"x" * 25 + b"\nok\n"], limit=10)
    assert events == [OverlongLine(25), b"ok"]


def test_overlong_line_spread_over_chunks_is_counted_without_buffering() -> None:
    splitter = LineSplitter(10)
    assert splitter.feed(b"x" * 8) == []
    assert splitter.feed(b"x" * 8) == []  # now over the limit: discarding
    assert splitter.feed(b"x" * 100) == []
    assert splitter.feed(b"xx\nnext\n") == [OverlongLine(118), b"next"]


def test_overlong_unterminated_line_reported_at_end() -> None:
    assert split_all([b"y" * 50], limit=10) == [OverlongLine(50)]


def test_line_exactly_at_the_limit_is_kept() -> None:
    assert split_all([b"z" * 10 + b"\n"], limit=10) == [b"z" * 10]


@given(
    lines=st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=30),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=20),
)
def test_any_chunking_gives_the_same_lines(lines: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(line + b"\n" for line in lines)
    points = sorted({c for c in cuts if c <= len(stream)} | {0, len(stream)})
    chunks = [stream[a:b] for a, b in itertools.pairwise(points)]
    assert split_all(chunks, limit=30) == [
        line if len(line) <= 30 else OverlongLine(len(line)) for line in lines
    ]
