#!/usr/bin/python3
"""Send HL7 v2 messages over MLLP and print the ACKs, like an interface engine.

Usage:
  mllp_client.py [options] HOST PORT FILE...
  mllp_client.py [options] HOST PORT --raw-frame-bytes HEX [--raw-frame-bytes HEX ...]

Each FILE holds one HL7 v2 message in ER7 form.  Its line endings (CRLF, LF or
CR) become CR, trailing line ends are trimmed to a single final CR and a UTF-8
byte order mark is dropped; otherwise the bytes are sent as they are, one MLLP
frame (0x0B msg 0x1C 0x0D) per file, in order, over ONE connection.  By default
each ACK frame is read before the next message is sent; with --pipeline all
frames go out in a single sendall() and the ACKs are then read in order.

For every ACK one JSON line is printed to stdout:
  {"file": FILE, "ack": ACK segments joined by "\\n", "msa": MSA-1,
   "control_id": MSA-2, "sent_control_id": MSH-10 of the message sent}
When a reply cannot be parsed as an HL7 message with an MSA segment, "msa"
and "control_id" are null and "error" says why.

Options:
  --timeout SECONDS    connect timeout, and the longest wait for each ACK (10)
  --pipeline           send every frame first, then read every ACK
  --tls                use TLS; --ca CA.pem verifies the server (system CAs
                       when omitted), --cert/--key present a client
                       certificate, --server-name sets SNI and the name checked
                       (default: HOST; an IP address is checked against the
                       certificate's IP SANs)
  --raw-frame-bytes HEX  (repeatable; instead of FILEs) send these bytes as
                       they are, each value in its own write, --raw-gap seconds
                       apart (0.2), for hostile-input tests; then print one JSON
                       line per frame that comes back ({"frame": N, ...} as
                       above) and how the exchange ended: {"event": "closed"},
                       {"event": "reset"}, {"event": "timeout"} (nothing for
                       --timeout seconds), {"event": "protocol_error"} or
                       {"event": "send_failed"}.  Example, a frame in two parts:
                       --raw-frame-bytes 0b4d53487c --raw-frame-bytes ...1c0d

Exit status:
  0  every ACK arrived (whatever its MSA-1 code); in raw mode, the exchange ran
  1  usage error (bad arguments, unreadable or empty FILE)
  2  could not connect, TLS handshake failed, or the connection closed, reset
     or timed out before an ACK arrived (details on stderr)
  3  the peer broke the protocol: bytes outside a frame, an oversized frame,
     or a reply that is not an HL7 message with an MSA segment
"""

import argparse
import collections
import json
import socket
import ssl
import sys
import time

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
from mllp_common import (  # noqa: E402
    MAX_FRAME_BYTES, FrameDecoder, FramingError, decode_text,
    encode_frame, field_text, import_hl7, segments_text)

hl7 = import_hl7()

EXIT_OK, EXIT_USAGE, EXIT_CONNECTION, EXIT_PROTOCOL = 0, 1, 2, 3


class UsageError(Exception):
    pass


class ConnectionProblem(Exception):
    """The connection closed, reset or timed out; the text says which."""

    def __init__(self, message, event):
        super().__init__(message)
        self.event = event  # "closed" | "reset" | "timeout"


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message):  # argparse would exit 2; usage errors are 1 here
        self.print_usage(sys.stderr)
        sys.stderr.write("%s: error: %s\n" % (self.prog, message))
        sys.exit(EXIT_USAGE)


def log(message):
    sys.stderr.write("mllp_client: %s\n" % message)
    sys.stderr.flush()


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Connection:
    """A connected (maybe TLS) socket with an MLLP frame reader."""

    def __init__(self, sock):
        self.sock = sock
        self.decoder = FrameDecoder(MAX_FRAME_BYTES)
        self.frames = collections.deque()

    def send(self, data, timeout):
        self.sock.settimeout(timeout)
        self.sock.sendall(data)

    def read_frame(self, timeout):
        """The next frame's content; raises ConnectionProblem or FramingError.

        ``timeout`` bounds the whole wait for this frame, however many recv()
        calls it takes.
        """
        deadline = time.monotonic() + timeout
        while not self.frames:
            if self.decoder.error is not None:
                raise self.decoder.error
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ConnectionProblem(self._state("timed out after %gs" % timeout), "timeout")
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                raise ConnectionProblem(self._state("timed out after %gs" % timeout), "timeout")
            except ConnectionResetError as exc:
                raise ConnectionProblem(self._state("connection reset (%s)" % exc), "reset")
            except (ssl.SSLError, OSError) as exc:
                raise ConnectionProblem(self._state("read failed (%s)" % exc), "reset")
            if not data:
                raise ConnectionProblem(self._state("connection closed by peer"), "closed")
            self.frames.extend(self.decoder.feed(data))
        return self.frames.popleft()

    def _state(self, what):
        if self.decoder.mid_frame:
            return "%s with a partial frame of %d bytes buffered" % (what, self.decoder.pending_bytes)
        return what

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def describe_reply(frame):
    """JSON-ready fields for a reply frame: ack, msa, control_id[, error]."""
    text = decode_text(frame)
    result = {"ack": segments_text(text), "msa": None, "control_id": None}
    try:
        message = hl7.parse(text)
        msa = message.segment("MSA")
        result["msa"] = field_text(msa, 1)
        result["control_id"] = field_text(msa, 2)
    except KeyError:
        result["error"] = "reply has no MSA segment"
    except Exception as exc:  # hl7.parse raises several kinds on bad input
        result["error"] = "reply is not parseable HL7: %s: %s" % (type(exc).__name__, exc)
    return result


def load_message(path):
    """The message in ``path`` as bytes ready to frame; raises UsageError."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise UsageError("cannot read %s: %s" % (path, exc.strerror or exc))
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    data = data.replace(b"\r\n", b"\r").replace(b"\n", b"\r").rstrip(b"\r")
    if not data.strip():
        raise UsageError("%s holds no message" % path)
    if b"\x0b" in data or b"\x1c" in data:
        raise UsageError("%s contains an MLLP block character (0x0b or 0x1c); "
                         "use --raw-frame-bytes to send such bytes" % path)
    return data + b"\r"


def message_control_id(message):
    try:
        return field_text(hl7.parse(decode_text(message)).segment("MSH"), 10)
    except Exception:
        return None


def tls_context(args):
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=args.ca)
    if args.cert:
        ctx.load_cert_chain(args.cert, args.key)
    return ctx


def connect(args):
    """A Connection to HOST:PORT (TLS handshake done); raises ConnectionProblem."""
    try:
        ctx = tls_context(args) if args.tls else None
    except (OSError, ssl.SSLError) as exc:
        raise UsageError("cannot load TLS files: %s" % exc)
    try:
        sock = socket.create_connection((args.host, args.port), timeout=args.timeout)
    except TimeoutError:
        raise ConnectionProblem("connect to %s:%d timed out after %gs"
                                % (args.host, args.port, args.timeout), "timeout")
    except OSError as exc:
        raise ConnectionProblem("cannot connect to %s:%d: %s"
                                % (args.host, args.port, exc.strerror or exc), "closed")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if ctx is not None:
        try:
            sock = ctx.wrap_socket(sock, server_hostname=args.server_name or args.host)
        except (ssl.SSLError, ssl.CertificateError, OSError) as exc:
            sock.close()
            raise ConnectionProblem("TLS handshake with %s:%d failed: %s"
                                    % (args.host, args.port, exc), "closed")
    return Connection(sock)


def run_files(args):
    messages = [(path, load_message(path)) for path in args.files]
    conn = connect(args)
    status = EXIT_OK
    try:
        if args.pipeline:
            try:
                conn.send(b"".join(encode_frame(m) for _, m in messages), args.timeout)
            except OSError as exc:
                raise ConnectionProblem("sending the frames failed: %s" % exc, "reset")
        for index, (path, message) in enumerate(messages):
            if not args.pipeline:
                try:
                    conn.send(encode_frame(message), args.timeout)
                except OSError as exc:
                    raise ConnectionProblem("sending %s failed: %s" % (path, exc), "reset")
            try:
                frame = conn.read_frame(args.timeout)
            except (ConnectionProblem, FramingError) as exc:
                unanswered = [p for p, _ in messages[index:]]
                log("no ACK for %s: %s" % (path, exc))
                log("unanswered: %s" % " ".join(unanswered))
                return EXIT_PROTOCOL if isinstance(exc, FramingError) else EXIT_CONNECTION
            reply = describe_reply(frame)
            if "error" in reply:
                log("reply to %s: %s" % (path, reply["error"]))
                status = EXIT_PROTOCOL
            emit({"file": path, **reply, "sent_control_id": message_control_id(message)})
        return status
    finally:
        conn.close()


def run_raw(args):
    conn = connect(args)
    try:
        for index, chunk in enumerate(args.raw):
            if index and args.raw_gap > 0:
                time.sleep(args.raw_gap)
            try:
                conn.send(chunk, args.timeout)
            except OSError as exc:
                log("sending chunk %d failed: %s" % (index, exc))
                emit({"event": "send_failed", "chunk": index, "detail": str(exc)})
                break
        count = 0
        while True:
            try:
                frame = conn.read_frame(args.timeout)
            except ConnectionProblem as exc:
                log(str(exc))
                emit({"event": exc.event, "detail": str(exc)})
                break
            except FramingError as exc:
                log("protocol error: %s" % exc)
                emit({"event": "protocol_error", "detail": str(exc)})
                break
            emit({"frame": count, **describe_reply(frame)})
            count += 1
        return EXIT_OK
    finally:
        conn.close()


def parse_hex(value):
    try:
        data = bytes.fromhex(value)
    except ValueError:
        raise argparse.ArgumentTypeError("not hex bytes: %r" % value)
    if not data:
        raise argparse.ArgumentTypeError("empty --raw-frame-bytes value")
    return data


def positive_float(value):
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError("not a number: %r" % value)
    if not number > 0:
        raise argparse.ArgumentTypeError("must be > 0: %r" % value)
    return number


def parse_args(argv):
    parser = ArgumentParser(
        prog="mllp_client.py",
        description="Send HL7 v2 messages over MLLP and print the ACKs as JSON lines.")
    parser.add_argument("host", metavar="HOST")
    parser.add_argument("port", metavar="PORT", type=int)
    parser.add_argument("files", metavar="FILE", nargs="*", help="one ER7 message per file")
    parser.add_argument("--timeout", type=positive_float, default=10.0, metavar="SECONDS",
                        help="connect timeout and longest wait for each ACK (default 10)")
    parser.add_argument("--pipeline", action="store_true",
                        help="send all frames in one write, then read all ACKs")
    parser.add_argument("--tls", action="store_true", help="connect with TLS")
    parser.add_argument("--ca", metavar="CA.pem", help="CA bundle that verifies the server")
    parser.add_argument("--cert", metavar="CERT.pem", help="client certificate (chain)")
    parser.add_argument("--key", metavar="KEY.pem", help="client private key")
    parser.add_argument("--server-name", metavar="NAME",
                        help="TLS server name (SNI and verification); default HOST")
    parser.add_argument("--raw-frame-bytes", dest="raw", type=parse_hex, action="append",
                        metavar="HEX", help="send these bytes as they are (repeatable)")
    parser.add_argument("--raw-gap", type=float, default=0.2, metavar="SECONDS",
                        help="pause between --raw-frame-bytes writes (default 0.2)")
    args = parser.parse_intermixed_args(argv)  # options may follow FILEs
    if not 0 < args.port < 65536:
        parser.error("PORT must be 1-65535")
    if args.raw and args.files:
        parser.error("give FILEs or --raw-frame-bytes, not both")
    if not args.raw and not args.files:
        parser.error("nothing to send: give FILEs or --raw-frame-bytes")
    if args.raw and args.pipeline:
        parser.error("--pipeline applies to FILEs only")
    if args.raw_gap < 0:
        parser.error("--raw-gap must be >= 0")
    if not args.tls and (args.ca or args.cert or args.key or args.server_name):
        parser.error("--ca, --cert, --key and --server-name need --tls")
    if args.key and not args.cert:
        parser.error("--key needs --cert")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return run_raw(args) if args.raw else run_files(args)
    except UsageError as exc:
        log("error: %s" % exc)
        return EXIT_USAGE
    except ConnectionProblem as exc:
        log(str(exc))
        return EXIT_CONNECTION


if __name__ == "__main__":
    sys.exit(main())
