"""The shared incremental SSE parser and line reader."""

from __future__ import annotations

import pytest

from assistant_stream_ce.errors import DecodeError
from assistant_stream_ce.serialization.sse import LineReader, SSEParser


def events(*pieces: bytes, dispatch_incomplete: bool = False) -> list[tuple[str | None, str, str]]:
    parser = SSEParser("test")
    out = []
    for piece in pieces:
        out += parser.feed(piece)
    out += parser.close(dispatch_incomplete)
    return [(event.event, event.data, event.id) for event in out]


def test_spec_example_with_comments_event_names_ids_and_retry() -> None:
    body = (
        b": stream-open\n\n"
        b'data: {"type":"text","text":"Hel"}\n\n'
        b"event: custom\ndata: first line\ndata: second line\n\n"
        b"id: 7\nretry: 3000\ndata: done\n\n"
    )
    parser = SSEParser("test")
    assert [(e.event, e.data, e.id) for e in parser.feed(body)] == [
        (None, '{"type":"text","text":"Hel"}', ""),
        ("custom", "first line\nsecond line", ""),
        (None, "done", "7"),
    ]
    assert parser.retry == 3000


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n", b"\r"])
def test_every_line_end_and_every_cut(line_end: bytes) -> None:
    body = (b"data: a" + line_end + line_end + b"data:b" + line_end + b"data" + line_end * 2) * 2
    expected = [(None, "a", ""), (None, "b\n", "")] * 2
    for cut in range(len(body) + 1):
        assert events(body[:cut], body[cut:]) == expected, cut


def test_cr_at_the_end_of_a_read_then_lf() -> None:
    assert events(b"data: x\r", b"\n\r", b"\ndata: y\r\n\r\n") == [(None, "x", ""), (None, "y", "")]


def test_bom_is_stripped_once_even_when_split() -> None:
    assert events(b"\xef", b"\xbb\xbfdata: a\n\n") == [(None, "a", "")]
    assert events(b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\n") == []  # the second BOM is a field name


def test_multibyte_character_split_across_reads() -> None:
    body = "data: 😀漢\n\n".encode()
    for cut in range(len(body)):
        assert events(body[:cut], body[cut:]) == [(None, "😀漢", "")]


def test_fields_follow_the_spec() -> None:
    body = b"id: 1\ndata: a\n\nid: x\x00y\ndata: b\n\nretry: 1a\nfoo: bar\ndata:  two spaces\n\n"
    parser = SSEParser("test")
    got = [(e.data, e.id) for e in parser.feed(body)]
    assert got == [("a", "1"), ("b", "1"), (" two spaces", "1")]
    assert parser.retry is None


def test_blocks_without_data_dispatch_nothing_and_unterminated_events_are_dropped() -> None:
    assert events(b": ping\n\nevent: x\n\nid: 3\n\n") == []
    assert events(b"data: a\n\ndata: partial") == [(None, "a", "")]
    assert events(b"data: partial", dispatch_incomplete=True) == [(None, "partial", "")]


def test_invalid_utf8_raises_decode_error_naming_the_line() -> None:
    with pytest.raises(DecodeError, match=r"test: line 2: invalid UTF-8"):
        events(b"data: a\n\xff\n")
    with pytest.raises(DecodeError, match="invalid UTF-8"):
        events("data: 😀".encode()[:-1])  # the body ends inside a character


def test_limits_bound_memory() -> None:
    reader = LineReader("test", max_line=10)
    with pytest.raises(DecodeError, match="longer than 10"):
        reader.feed(b"x" * 11)
    parser = SSEParser("test", max_event=10)
    with pytest.raises(DecodeError, match="event larger than 10"):
        parser.feed(b"data: 123456\ndata: 123456\n")


def test_line_reader_counts_lines_and_returns_the_tail() -> None:
    reader = LineReader("test")
    assert reader.feed(b"a\nb\r\nc") == ["a", "b"]
    assert reader.line_count == 2
    assert reader.close() == "c"


def test_an_event_of_many_data_lines_and_a_long_line_in_small_reads_are_linear() -> None:
    """Regressions (issue 14): data lines were joined one by one (a 6 MB event took 12 s) and
    a long line re-joined its pending text on every read (9 MB in 1 KiB reads: ~30 s)."""
    import time

    lines = b"data: 0123456789\n" * 400_000  # a 6.8 MB event
    parser = SSEParser("test")
    started = time.perf_counter()
    events = []
    for i in range(0, len(lines), 65_536):
        events += parser.feed(lines[i : i + 65_536])
    events += parser.feed(b"\n")
    assert time.perf_counter() - started < 3
    assert len(events) == 1 and len(events[0].data) == 400_000 * 11 - 1

    reader = LineReader("test")
    line = b"x" * (9 * 1024 * 1024)
    started = time.perf_counter()
    for i in range(0, len(line), 1024):
        assert reader.feed(line[i : i + 1024]) == []
    assert reader.feed(b"\n") == ["x" * len(line)]
    assert time.perf_counter() - started < 3
