"""UTF-16 text passed on as UTF-8, as every source's bytes are: a log that PowerShell's ``>`` wrote (a QEMU on
Windows), as a file, or piped or redirected in, or printed by a command (``cat /mnt/c/…/qemu.txt`` from WSL).
Only a byte-order mark at the start says so: bytes without it pass through as they are."""

from __future__ import annotations

import codecs

UTF16_BOMS = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}


class Utf16ToUtf8:
    """UTF-16 bytes as UTF-8, read piece by piece (a piece may end inside a character). Nothing is lost: a lone
    surrogate passes through (as the bytes UTF-8 would give it), an odd last byte as it is."""

    def __init__(self, codec: str):
        self._codec = codec
        self._decoder = codecs.getincrementaldecoder(codec)("surrogatepass")
        self._at_start = True

    def feed(self, data: bytes) -> bytes:
        text = self._decoder.decode(data)
        if self._at_start and text:
            self._at_start = False
            text = text.removeprefix("\ufeff")  # the byte-order mark says how to read, it is not text
        return text.encode("utf-8", "surrogatepass")

    def rest(self) -> bytes:
        """At the end: what the decoder holds back, a lone high surrogate as UTF-8 gives it (as mid-stream) and a
        byte that starts no whole character as it is."""
        left = self._decoder.getstate()[0]
        self._decoder.reset()
        whole = len(left) - len(left) % 2
        return left[:whole].decode(self._codec, "surrogatepass").encode("utf-8", "surrogatepass") + left[whole:]


class StreamText:
    """A pipe's bytes as read, or as UTF-8 when its first two bytes are UTF-16's byte-order mark (decided once
    two bytes have come; a lone first byte waits for the next read or the end)."""

    def __init__(self) -> None:
        self._head = b""  # the first byte, held until the second says how to read
        self._decided = False
        self.utf16: Utf16ToUtf8 | None = None
        self.found_utf16 = False  # the last feed decided the stream is UTF-16 (a source says so, once)

    def feed(self, data: bytes) -> bytes:
        self.found_utf16 = False
        if not self._decided:
            data = self._head + data
            if len(data) < 2:
                self._head = data
                return b""
            self._head, self._decided = b"", True
            codec = UTF16_BOMS.get(data[:2])
            self.utf16 = Utf16ToUtf8(codec) if codec else None
            self.found_utf16 = codec is not None
        return self.utf16.feed(data) if self.utf16 is not None else data

    def rest(self) -> bytes:
        """At the end: what is held back, as it is."""
        if not self._decided:
            head, self._head = self._head, b""
            return head
        return self.utf16.rest() if self.utf16 is not None else b""


def text_chunks(split, text: Utf16ToUtf8 | StreamText | None, data: bytes) -> tuple[list, bool]:
    """data's chunks of whole lines (split: a ChunkSplitter), read by text first (None: the bytes as they are), and
    whether this read found the stream to be UTF-16 (its source says so)."""
    if text is None:
        return split.feed(data), False
    return split.feed(text.feed(data)), isinstance(text, StreamText) and text.found_utf16


def text_flush(split, text: Utf16ToUtf8 | StreamText | None) -> list:
    """At a source's end: what text and split hold back (a last line, an odd byte), as chunks."""
    rest = text.rest() if text is not None else b""
    return (split.feed(rest) if rest else []) + split.flush()
