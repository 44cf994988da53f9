"""Reading payloads for the command: JSON Lines or documents, lazily, within a size limit."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from batchfsm import _sources
from batchfsm._sources import Item, Place, Skipped, Unreadable, discover, read

PAYLOAD = {"id": "batch_1", "object": "batch"}
LINE = json.dumps(PAYLOAD).encode()


def items(path: Path, max_bytes: int = 1 << 20) -> list[Item]:
    return list(read(str(path), max_bytes))


class TestKinds:
    def test_jsonl_lines_are_numbered_and_blank_lines_skipped(self, tmp_path: Path) -> None:
        """JSON Lines give one item per non-blank line, at its physical line number."""
        path = tmp_path / "x.jsonl"
        path.write_bytes(LINE + b"\r\n\n   \n" + LINE + b"\n")
        found = items(path)
        assert [item.place for item in found] == [Place(str(path), 1), Place(str(path), 4)]
        assert all(item.data == LINE for item in found)  # without the line break

    def test_a_json_file_of_object_lines_is_json_lines(self, tmp_path: Path) -> None:
        """A .json file whose first line is a whole object is read as JSON Lines."""
        path = tmp_path / "x.json"
        path.write_bytes(b"\n" + LINE + b"\n" + LINE)
        assert [item.place.line for item in items(path)] == [2, 3]

    def test_a_pretty_document_is_one_item(self, tmp_path: Path) -> None:
        """A pretty-printed object is one item holding the whole text."""
        path = tmp_path / "x.json"
        text = json.dumps(PAYLOAD, indent=2).encode()
        path.write_bytes(text)
        (item,) = items(path)
        assert (item.place, item.data) == (Place(str(path)), text)

    def test_an_array_gives_its_elements(self, tmp_path: Path) -> None:
        """A JSON array gives each element's own text, named by its index."""
        path = tmp_path / "x.json"
        path.write_text(json.dumps([PAYLOAD, 3], indent=1))
        found = items(path)
        assert [(i.place.index, i.data) for i in found] == [
            (0, json.dumps(PAYLOAD, indent=1).replace("\n", "\n ").encode()),
            (1, b"3"),
        ]

    def test_an_empty_file_has_no_payloads(self, tmp_path: Path) -> None:
        """An empty or blank file gives nothing."""
        path = tmp_path / "x.json"
        path.write_bytes(b"  \n\n")
        assert items(path) == []

    def test_broken_text_is_one_item_for_validate(self, tmp_path: Path) -> None:
        """Text that is not JSON is handed on as is: validate explains what is wrong."""
        path = tmp_path / "x.json"
        path.write_bytes(b"{not json\n")
        (item,) = items(path)
        assert item.data == b"{not json\n"


class TestLimits:
    def test_a_line_at_the_limit_is_read(self, tmp_path: Path) -> None:
        """A line of exactly max_bytes (plus its line break) is read."""
        path = tmp_path / "x.jsonl"
        path.write_bytes(LINE + b"\n")
        (item,) = items(path, max_bytes=len(LINE))
        assert item.refused is None

    def test_a_line_past_the_limit_is_refused_and_skipped(self, tmp_path: Path) -> None:
        """A line one byte over is refused with its size; the next line is read."""
        path = tmp_path / "x.jsonl"
        path.write_bytes(LINE + b" \n" + LINE + b"\n")
        first, second = items(path, max_bytes=len(LINE))
        assert first.refused is not None
        assert first.refused.code == "input.too_large"
        assert f"holds {len(LINE) + 2} bytes" in first.refused.message
        assert (second.place.line, second.data) == (2, LINE)

    def test_a_huge_line_is_skipped_in_pieces(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Skipping a long line never reads more than one piece of it at a time."""
        monkeypatch.setattr(_sources, "_SKIP_CHUNK", 64)
        path = tmp_path / "x.jsonl"
        path.write_bytes(b"[" + b"1," * 5000 + b"1]\n" + LINE)
        consumed: list[int] = []
        found = list(read(str(path), 100, consumed.append))
        assert [item.refused is not None for item in found] == [True, False]
        assert max(consumed) <= 101
        assert sum(consumed) == path.stat().st_size

    def test_a_document_past_the_limit_is_refused(self, tmp_path: Path) -> None:
        """A document over the limit is refused whole, whichever line crosses it."""
        path = tmp_path / "x.json"
        path.write_text(json.dumps({**PAYLOAD, "pad": "x" * 300}, indent=2))
        (item,) = items(path, max_bytes=100)
        assert item.refused is not None
        assert "the document holds" in item.refused.message


class _OneLineThenBroken(io.RawIOBase):
    """A stream that yields one line and then fails, as a dying pipe would."""

    def __init__(self) -> None:
        self.sent = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.sent:
            raise OSError(5, "Input/output error")
        data = LINE + b"\n"
        buffer[: len(data)] = data
        self.sent = True
        return len(data)


def test_reading_is_lazy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each payload is handed on before the next line is read: memory stays constant."""
    stream = io.BufferedReader(_OneLineThenBroken(), buffer_size=len(LINE) + 1)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(stream))
    found: Iterator[Item] = read("-", 1 << 20)
    first = next(found)
    assert first.data == LINE
    with pytest.raises(OSError, match="Input/output"):
        next(found)


class TestDiscover:
    def test_directories_give_payload_files_sorted(self, tmp_path: Path) -> None:
        """A directory gives its .json, .jsonl and .ndjson files, recursively and sorted."""
        for name in ["b/z.json", "a.jsonl", "c.ndjson", "d.txt", "b/e.JSON"]:
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_text("{}")
        found = list(discover([str(tmp_path), "-", "given.txt"]))
        names = [os.path.relpath(p, tmp_path) for p in found[:3] if isinstance(p, str)]
        assert names == ["a.jsonl", os.path.join("b", "z.json"), "c.ndjson"]
        assert found[3:] == ["-", "given.txt"]

    def test_a_directory_that_cannot_be_listed_is_reported(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An error while walking a directory becomes an Unreadable with the reason."""

        def failing_walk(top: Path, onerror: Any) -> Iterator[Any]:
            onerror(PermissionError(13, "Permission denied", str(top / "secret")))
            return iter(())

        monkeypatch.setattr(os, "walk", failing_walk)  # the module _sources walks with
        assert list(discover([str(tmp_path)])) == [
            Unreadable(str(tmp_path / "secret"), "Permission denied")
        ]


class TestOversizedStarts:
    def test_a_document_whose_first_line_is_too_long(self, tmp_path: Path) -> None:
        """A .json file whose very first line passes the limit is refused as a document."""
        path = tmp_path / "x.json"
        path.write_bytes(b"[" + b" " * 300 + b"\n1]")
        (item,) = items(path, max_bytes=100)
        assert item.refused is not None
        assert f"the document holds {path.stat().st_size} bytes" in item.refused.message

    def test_a_long_last_line_without_a_break(self, tmp_path: Path) -> None:
        """A final line over the limit, with no line break after it, is refused."""
        path = tmp_path / "x.jsonl"
        path.write_bytes(LINE + b"\n" + b"[" + b"1," * 200 + b"1]")
        first, second = items(path, max_bytes=100)
        assert first.refused is None
        assert second.refused is not None
        assert second.place.line == 2


class TestBlocks:
    """JSON Lines after the first line are read in blocks; lines may span blocks."""

    @pytest.fixture(autouse=True)
    def _small_blocks(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(_sources, "_BLOCK", 16)

    def test_lines_across_blocks(self, tmp_path: Path) -> None:
        """Lines cut by block edges come out whole, numbered, blank ones skipped."""
        path = tmp_path / "x.jsonl"
        path.write_bytes(LINE + b"\n" + LINE + b"\r\n\n  \n" + LINE)
        found = items(path)
        assert [item.line for item in found] == [1, 2, 5]
        assert [json.loads(item.data) for item in found] == [PAYLOAD] * 3  # type: ignore[arg-type]

    def test_a_long_line_in_the_middle_is_dropped_as_it_grows(self, tmp_path: Path) -> None:
        """A line over the limit after the first is refused with its full size; no block
        read is larger than a block, and the lines after it are read."""
        path = tmp_path / "x.jsonl"
        long = b"[" + b"1," * 250 + b"1]"
        path.write_bytes(LINE + b"\n" + long + b"\n" + LINE + b"\n")
        consumed: list[int] = []
        found = list(read(str(path), 100, consumed.append))
        assert [(item.line, item.refused is None) for item in found] == [
            (1, True),
            (2, False),
            (3, True),
        ]
        assert found[1].refused is not None
        assert f"holds {len(long) + 1} bytes" in found[1].refused.message
        assert max(consumed[1:]) <= 16  # after the first line, read with readline
        assert sum(consumed) == path.stat().st_size

    def test_a_long_last_line_while_skipping(self, tmp_path: Path) -> None:
        """A line over the limit that runs to the end of the file is refused at its line."""
        path = tmp_path / "x.jsonl"
        path.write_bytes(LINE + b"\n" + b"x" * 300)
        first, second = items(path, max_bytes=100)
        assert first.refused is None
        assert second.refused is not None
        assert (second.line, "holds 300 bytes" in second.refused.message) == (2, True)

    def test_a_line_exactly_at_the_limit_inside_a_block(self, tmp_path: Path) -> None:
        """A later line of exactly max_bytes is read; one byte more is refused."""
        path = tmp_path / "x.jsonl"
        path.write_bytes(LINE + b"\n" + LINE + b"\n" + LINE + b" \n")
        found = items(path, max_bytes=len(LINE))
        assert [item.refused is None for item in found] == [True, True, False]


class TestArrays:
    """An array is split into its elements' texts, each judged as the payload alone."""

    @pytest.mark.parametrize(
        ("text", "elements"),
        [
            (b"[]", []),
            (b" [ 1 ,\n 2 ] \n", [b"1", b"2"]),
            (b'[{"a": "x,]}[\\"{"}, [1, [2]], "s"]', [b'{"a": "x,]}[\\"{"}', b"[1, [2]]", b'"s"']),
            (b"[1 2, {]", None),  # a bracket that does not match
            (b"[1, 2", None),  # never closed
            (b"[1, 2] 3", None),  # something after it
            (b"[1,, 2]", None),
            (b"[, 1]", None),
            (b"[1, ]", None),
            (b'["open]', None),  # a string that never ends
            (b"[1 2, x]", [b"1 2", b"x"]),  # text between commas is each element's to judge
        ],
    )
    def test_elements(self, tmp_path: Path, text: bytes, elements: list[bytes] | None) -> None:
        """Well-placed brackets give each element's text, trimmed; others the whole text."""
        path = tmp_path / "x.json"
        path.write_bytes(b"\n" + text)
        found = items(path)
        if elements is None:
            assert [(item.index, item.data) for item in found] == [(None, text)]
        else:
            assert [(item.index, item.data) for item in found] == list(enumerate(elements))

    def test_big_integers_keep_their_digits(self, tmp_path: Path) -> None:
        """An element's 400-digit integer comes as written (a parse would make it a float)."""
        path = tmp_path / "x.json"
        digits = b"9" * 400
        path.write_bytes(b'[{"n": ' + digits + b"}, 2]")
        assert items(path)[0].data == b'{"n": ' + digits + b"}"

    def test_a_huge_limit_reads_in_blocks(self, tmp_path: Path) -> None:
        """A limit of a terabyte reads a document without asking for that much memory."""
        path = tmp_path / "x.json"
        path.write_text(json.dumps(PAYLOAD, indent=2))
        (item,) = items(path, max_bytes=1 << 40)
        assert item.data == path.read_bytes()


class TestOversizedFirstLine:
    """A first line past the limit lets the next line say what the source is."""

    def test_then_an_object_is_json_lines(self, tmp_path: Path) -> None:
        """Followed by a whole object, the first line is refused alone and the rest read."""
        path = tmp_path / "x.json"
        path.write_bytes(b"x" * 300 + b"\n\n" + LINE + b"\n" + LINE + b"\n")
        found = items(path, max_bytes=100)
        assert [(item.line, item.refused is None) for item in found] == [
            (1, False),
            (3, True),
            (4, True),
        ]

    def test_then_another_line_too_large_is_json_lines(self, tmp_path: Path) -> None:
        """Two long lines in a row are two refused lines, not one document."""
        path = tmp_path / "x.json"
        path.write_bytes(b"x" * 300 + b"\n" + b"y" * 200 + b"\n" + LINE)
        found = items(path, max_bytes=100)
        assert [(item.line, item.refused is None) for item in found] == [
            (1, False),
            (2, False),
            (3, True),
        ]

    def test_alone_it_is_a_document(self, tmp_path: Path) -> None:
        """A single long line is a document too large."""
        path = tmp_path / "x.json"
        path.write_bytes(b"[" + b"1," * 200 + b"1]\n")
        (item,) = items(path, max_bytes=100)
        assert item.refused is not None
        assert f"the document holds {path.stat().st_size} bytes" in item.refused.message


class _Chunks(io.RawIOBase):
    """A stream that yields one chunk per read, then fails: a pipe whose writer died."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = list(chunks)
        self.reads = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self.reads += 1
        if not self.chunks:
            raise OSError(5, "Input/output error")
        data = self.chunks.pop(0)
        buffer[: len(data)] = data
        return len(data)


class TestArrival:
    """A payload is handed on as soon as it has arrived, never after more input."""

    def test_lines_after_the_first(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Each of the later lines, arriving apart, is handed on before the next read."""
        raw = _Chunks(LINE + b"\n", LINE + b"\n", LINE + b"\n")
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BufferedReader(raw)))
        found = read("-", 1 << 20)
        assert [next(found).line for _ in range(3)] == [1, 2, 3]
        assert raw.reads == 3
        with pytest.raises(OSError, match="Input/output"):
            next(found)

    def test_before_read_is_called_before_each_read(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The before_read hook runs before every read, so output can be flushed first."""
        raw = _Chunks(LINE + b"\n", LINE + b"\n", b"")
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BufferedReader(raw)))
        events: list[str] = []
        for item in read("-", 1 << 20, before_read=lambda: events.append(f"read {raw.reads}")):
            events.append(f"item {item.line}")
        assert events[:4] == ["read 0", "item 1", "read 1", "item 2"]

    def test_a_closed_stdin_is_an_os_error(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Started with stdin closed, Python has no sys.stdin: reading `-` says so."""
        monkeypatch.setattr("sys.stdin", None)
        with pytest.raises(OSError, match="standard input is closed"):
            list(read("-", 100))
        assert _sources.size("-") is None


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
class TestSpecialFiles:
    def test_only_regular_files_are_read_from_a_directory(self, tmp_path: Path) -> None:
        """A FIFO is skipped, a link to a file is read, a dangling link is unreadable."""
        (tmp_path / "a.json").write_text("{}")
        os.mkfifo(tmp_path / "b.json")
        (tmp_path / "c.json").symlink_to(tmp_path / "a.json")
        (tmp_path / "d.json").symlink_to(tmp_path / "gone")
        assert list(discover([str(tmp_path)])) == [
            str(tmp_path / "a.json"),
            Skipped(str(tmp_path / "b.json"), "not a regular file (a FIFO)"),
            str(tmp_path / "c.json"),
            Unreadable(str(tmp_path / "d.json"), "No such file or directory"),
        ]

    def test_a_path_given_by_name_is_read_whatever_it_is(self, tmp_path: Path) -> None:
        """A FIFO named as a PATH is a source (process substitution gives one)."""
        fifo = str(tmp_path / "b.json")
        os.mkfifo(fifo)
        assert list(discover([fifo])) == [fifo]
