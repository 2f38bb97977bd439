"""Shared pieces of the MLLP test tools (mllp_client.py, ward_sim.py).

MLLP (HL7 v2 Minimal Lower Layer Protocol) frames a message as

    0x0B  <message bytes>  0x1C 0x0D

and nothing else may appear on the stream between frames.  This module holds
the frame encoder, a strict incremental frame decoder, and small helpers around
Debian's python3-hl7 package (``import hl7``).  It uses the standard library
only, apart from hl7.
"""

import datetime
import os
import sys

START_BLOCK = 0x0B
END_BLOCK = 0x1C
CARRIAGE_RETURN = 0x0D
FRAME_TRAILER = bytes((END_BLOCK, CARRIAGE_RETURN))

#: Largest message (frame content) either tool accepts; larger is an error.
MAX_FRAME_BYTES = 16 * 1024 * 1024


def import_hl7():
    """Return the ``hl7`` module (Debian's python3-hl7), or exit with advice.

    When the script runs under an interpreter other than Debian's (a pyenv or
    venv python3 first on PATH), Debian's dist-packages is not on sys.path;
    python3-hl7 is pure Python, so that folder is appended as a fallback.
    """
    try:
        import hl7  # noqa: PLC0415
        return hl7
    except ImportError:
        pass
    debian = "/usr/lib/python3/dist-packages"
    if os.path.isfile(os.path.join(debian, "hl7", "__init__.py")):
        sys.path.append(debian)
        try:
            import hl7  # noqa: PLC0415
            return hl7
        except ImportError:
            pass
    sys.stderr.write(
        "error: the hl7 module is missing; install Debian's python3-hl7 "
        "(apt-get install -y python3-hl7) and run with /usr/bin/python3\n")
    sys.exit(1)


class FramingError(Exception):
    """The byte stream broke MLLP framing (or a frame grew too large)."""


def encode_frame(message: bytes) -> bytes:
    """Wrap one message in an MLLP frame."""
    if START_BLOCK in message or END_BLOCK in message:
        raise ValueError("message contains an MLLP block character (0x0b or 0x1c)")
    return bytes((START_BLOCK,)) + message + FRAME_TRAILER


class FrameDecoder:
    """Strict incremental MLLP decoder.

    ``feed(data)`` returns the list of complete frame contents (bytes, without
    the block characters) that ``data`` completed, in order.  Any number of
    frames may arrive in one chunk, and one frame may span many chunks.

    On a framing violation -- a byte other than 0x0B outside a frame, a 0x0B
    inside a frame, 0x1C not followed by 0x0D, or a frame longer than
    ``max_frame_bytes`` -- the decoder stores a FramingError in ``error``,
    still returns the frames completed before the violation, and ignores all
    later input.  Callers process the returned frames, then check ``error``.
    """

    def __init__(self, max_frame_bytes: int = MAX_FRAME_BYTES):
        self.max_frame_bytes = max_frame_bytes
        self.error = None
        self._buf = bytearray()
        self._in_frame = False
        self._scanned = 0  # bytes of the current frame already searched

    @property
    def mid_frame(self) -> bool:
        """True when a frame has started but not ended (bytes are pending)."""
        return self._in_frame or bool(self._buf)

    @property
    def pending_bytes(self) -> int:
        return len(self._buf)

    def _fail(self, message: str) -> None:
        self.error = FramingError(message)
        self._buf.clear()
        self._in_frame = False

    def feed(self, data: bytes) -> list:
        if self.error is not None:
            return []
        self._buf += data
        frames = []
        buf = self._buf
        while buf:
            if not self._in_frame:
                if buf[0] != START_BLOCK:
                    self._fail("unexpected byte(s) outside a frame: %s (expected start block 0x0b)"
                               % bytes(buf[:16]).hex(" "))
                    break
                del buf[0]
                self._in_frame = True
                self._scanned = 0
                continue
            end = buf.find(END_BLOCK, self._scanned)
            limit = len(buf) if end < 0 else end
            if buf.find(START_BLOCK, self._scanned, limit) >= 0:
                self._fail("start block 0x0b inside a frame")
                break
            if limit > self.max_frame_bytes:
                self._fail("frame exceeds %d bytes" % self.max_frame_bytes)
                break
            if end < 0:
                self._scanned = len(buf)
                break
            if end + 1 >= len(buf):
                self._scanned = end  # 0x1c seen; wait for the 0x0d after it
                break
            if buf[end + 1] != CARRIAGE_RETURN:
                self._fail("end block 0x1c followed by 0x%02x, not 0x0d" % buf[end + 1])
                break
            frames.append(bytes(buf[:end]))
            del buf[:end + 2]
            self._in_frame = False
        return frames


def decode_text(data: bytes) -> str:
    """Message bytes as text: UTF-8, or Latin-1 (lossless) when not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def segments_text(text: str) -> str:
    """A message's segments joined by newlines (CR, CRLF or LF separated)."""
    lines = text.replace("\r\n", "\r").replace("\n", "\r").split("\r")
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines)


def field_text(segment, number: int) -> str:
    """Field ``number`` of a parsed hl7 segment as it appears on the wire.

    Numbering is HL7's: for MSH, 1 is the field separator, 2 the encoding
    characters, 3 the sending application.  A missing field gives "".
    """
    if number < len(segment):
        return str(segment(number))
    return ""


def utc_now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


def hl7_timestamp() -> str:
    """Current time as an HL7 DTM, in UTC: YYYYMMDDHHMMSS+0000."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d%H%M%S+0000")
