#!/usr/bin/python3
"""A ward system's MLLP receiver: records every HL7 v2 message and ACKs it.

Usage:
  ward_sim.py --listen HOST:PORT --record FILE.jsonl [--ready-file PATH]
              [--tls --cert CERT.pem --key KEY.pem [--ca CA.pem]]
              [--answer CODE|none|close] [--ack-delay SECONDS]
              [--duplicates-by-control-id]

It listens on HOST:PORT (PORT may be 0: the system picks one; "[::1]:0" for
IPv6) and serves each connection in its own thread: any number of MLLP frames
(0x0B msg 0x1C 0x0D) per connection, frames split across TCP segments or
several in one.  Bytes outside a frame (or a malformed/oversized frame) close
that connection, with a line on stderr; other connections are unaffected.

Once listening it writes the bound "HOST:PORT\\n" to --ready-file (written to a
temporary name then renamed, so a reader never sees a partial file; a stale
ready file is removed at start-up and the file is removed again on exit).

Every frame received appends one JSON line to --record (flushed and fsynced;
the file is appended to, never truncated -- delete it for a fresh run):
  {"received_at": ISO-8601 UTC time, "control_id": MSH-10, "type": MSH-9,
   "message": the segments joined by "\\n", "peer_cn": client certificate CN
   or null}
plus "duplicate": true/false with --duplicates-by-control-id, and
"parse_error" (control_id and type null) when the frame is not parseable HL7.

Each message is then answered with one ACK frame:
  MSH|^~\\&|WARDSIM|<req MSH-6>|<req MSH-3>|<req MSH-4>|<now>||ACK^<req trigger,
  normally I12>^ACK|<new id>|P|2.5.1 <CR> MSA|<code>|<req MSH-10> <CR>
  --answer AA|AE|AR|CA|CE|CR  the code (default AA); an unparseable message is
                            always answered AR (CR when CODE is CA/CE/CR)
  --answer none             record, never answer (the connection stays open)
  --answer close            record, then close the connection without answering
  --ack-delay SECONDS       wait this long before each ACK (default 0)
  --duplicates-by-control-id
                            a message whose MSH-10 is already in the record file
                            (this run or an earlier one) is recorded with
                            "duplicate": true and always answered AA, whatever
                            --answer says -- so a sender that resends after a
                            lost ACK succeeds on its retry; tests count distinct
                            control ids.

TLS: --tls --cert --key serve TLS; with --ca, clients must present a
certificate signed by that CA (its CN is recorded as peer_cn); without --ca no
client certificate is asked for.

SIGTERM or SIGINT stops it cleanly (exit 0).  Exit 1: usage or start-up error.
"""

import argparse
import json
import logging
import os
import signal
import socket
import ssl
import sys
import threading
import time
import uuid

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
from mllp_common import (  # noqa: E402
    MAX_FRAME_BYTES, FrameDecoder, decode_text, encode_frame,
    field_text, hl7_timestamp, import_hl7, segments_text, utc_now_iso)

hl7 = import_hl7()

ACK_CODES = ("AA", "AE", "AR", "CA", "CE", "CR")
POLL_SECONDS = 0.5        # how often blocked threads look at the stop flag
HANDSHAKE_SECONDS = 10.0  # longest TLS handshake
SEND_SECONDS = 10.0       # longest write of one ACK
STOP_GRACE_SECONDS = 5.0  # how long shutdown waits for connection threads

log = logging.getLogger("ward_sim")


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message):  # argparse would exit 2; usage errors are 1 here
        self.print_usage(sys.stderr)
        sys.stderr.write("%s: error: %s\n" % (self.prog, message))
        sys.exit(1)


class Recorder:
    """Appends JSON lines to the record file; tracks control ids seen."""

    def __init__(self, path, mark_duplicates):
        self.mark_duplicates = mark_duplicates
        self.lock = threading.Lock()
        self.seen = set()
        needs_newline = False
        if os.path.exists(path):
            with open(path, "rb") as f:
                data = f.read()
            needs_newline = bool(data) and not data.endswith(b"\n")
            for line in data.splitlines():
                try:
                    control_id = json.loads(line).get("control_id")
                except (ValueError, AttributeError):
                    continue
                if control_id:
                    self.seen.add(control_id)
        self.file = open(path, "a", encoding="utf-8")
        if needs_newline:  # an earlier run died mid-line: keep lines separate
            self.file.write("\n")
            self.file.flush()

    def record(self, entry, control_id):
        """Write ``entry``; return True when ``control_id`` was seen before."""
        with self.lock:
            duplicate = bool(control_id) and control_id in self.seen
            if self.mark_duplicates:
                entry["duplicate"] = duplicate
            self.file.write(json.dumps(entry) + "\n")
            self.file.flush()
            os.fsync(self.file.fileno())
            if control_id:
                self.seen.add(control_id)
            return duplicate

    def close(self):
        with self.lock:
            self.file.close()


def peer_common_name(sock):
    if not isinstance(sock, ssl.SSLSocket):
        return None
    cert = sock.getpeercert()
    for rdn in (cert or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return None


def build_ack(msh, message, code, control_id):
    """The ACK text for a request whose MSH segment is ``msh`` (or None)."""
    trigger = ""
    if message is not None:
        try:
            trigger = message.extract_field("MSH", 1, 9, 1, 2)
        except Exception:
            trigger = ""
    fields = [
        "MSH", "^~\\&", "WARDSIM",
        field_text(msh, 6) if msh is not None else "",
        field_text(msh, 3) if msh is not None else "",
        field_text(msh, 4) if msh is not None else "",
        hl7_timestamp(), "",
        "ACK^%s^ACK" % (trigger or "I12"),
        "WS" + uuid.uuid4().hex[:18],
        "P", "2.5.1",
    ]
    return "|".join(fields) + "\rMSA|%s|%s\r" % (code, control_id or "")


class WardSim:
    def __init__(self, args):
        self.args = args
        self.stop = threading.Event()
        self.threads = set()
        self.threads_lock = threading.Lock()
        self.connections = 0
        self.ssl_context = None
        if args.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(args.cert, args.key)
            if args.ca:
                ctx.load_verify_locations(cafile=args.ca)
                ctx.verify_mode = ssl.CERT_REQUIRED
            self.ssl_context = ctx
        self.recorder = Recorder(args.record, args.duplicates_by_control_id)
        self.listener = None

    # -- listening ---------------------------------------------------------

    def listen(self):
        host, port = self.args.listen
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.listener = socket.create_server((host, port), family=family, backlog=64)
        self.listener.settimeout(POLL_SECONDS)
        bound = self.listener.getsockname()
        address = ("[%s]:%d" if family == socket.AF_INET6 else "%s:%d") % (bound[0], bound[1])
        log.info("listening on %s%s", address, " (TLS)" if self.ssl_context else "")
        if self.args.ready_file:
            write_atomically(self.args.ready_file, address + "\n")
        return address

    def serve(self):
        while not self.stop.is_set():
            try:
                sock, peer = self.listener.accept()
            except TimeoutError:
                continue
            except OSError as exc:
                if self.stop.is_set():
                    break
                log.error("accept failed: %s", exc)
                time.sleep(0.1)
                continue
            self.connections += 1
            name = "conn%d %s" % (self.connections, format_peer(peer))
            thread = threading.Thread(target=self._run_connection, args=(sock, name),
                                      name=name, daemon=True)
            with self.threads_lock:
                self.threads.add(thread)
            thread.start()

    def shutdown(self):
        self.stop.set()
        if self.listener is not None:
            self.listener.close()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        with self.threads_lock:
            threads = list(self.threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.recorder.close()
        if self.args.ready_file:
            try:
                os.unlink(self.args.ready_file)
            except FileNotFoundError:
                pass

    # -- one connection ----------------------------------------------------

    def _run_connection(self, sock, name):
        try:
            self._serve_connection(sock, name)
        except Exception:
            log.exception("%s: unexpected error; connection closed", name)
        finally:
            try:
                sock.close()
            except OSError:
                pass
            with self.threads_lock:
                self.threads.discard(threading.current_thread())

    def _serve_connection(self, sock, name):
        log.info("%s: connected", name)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.ssl_context is not None:
            sock.settimeout(HANDSHAKE_SECONDS)
            try:
                sock = self.ssl_context.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                log.warning("%s: TLS handshake failed: %s", name, exc)
                return
        peer_cn = peer_common_name(sock)
        if peer_cn is not None:
            log.info("%s: client certificate CN=%s", name, peer_cn)
        decoder = FrameDecoder(MAX_FRAME_BYTES)
        try:
            while not self.stop.is_set():
                sock.settimeout(POLL_SECONDS)
                try:
                    data = sock.recv(65536)
                except TimeoutError:
                    continue
                except (ssl.SSLError, OSError) as exc:
                    log.warning("%s: read failed: %s", name, exc)
                    return
                if not data:
                    if decoder.mid_frame:
                        log.warning("%s: closed by peer mid-frame (%d bytes discarded)",
                                    name, decoder.pending_bytes)
                    else:
                        log.info("%s: closed by peer", name)
                    return
                for frame in decoder.feed(data):
                    if not self._handle_frame(sock, name, frame, peer_cn):
                        return
                if decoder.error is not None:
                    log.error("%s: %s; closing the connection", name, decoder.error)
                    return
        finally:
            sock.close()

    def _handle_frame(self, sock, name, frame, peer_cn):
        """Record and answer one message; False means close the connection."""
        text = decode_text(frame)
        entry = {"received_at": utc_now_iso(), "control_id": None, "type": None,
                 "message": segments_text(text), "peer_cn": peer_cn}
        message = msh = None
        try:
            message = hl7.parse(text)
            msh = message.segment("MSH")
            entry["control_id"] = field_text(msh, 10)
            entry["type"] = field_text(msh, 9)
        except Exception as exc:  # hl7.parse raises several kinds on bad input
            message = msh = None
            entry["parse_error"] = "%s: %s" % (type(exc).__name__, exc)
        control_id = entry["control_id"]
        duplicate = self.recorder.record(entry, control_id)

        answer = self.args.answer
        if msh is None:
            log.error("%s: unparseable message recorded (%s)", name, entry["parse_error"])
            if answer in ACK_CODES:
                answer = "CR" if answer.startswith("C") else "AR"
        elif duplicate and self.args.duplicates_by_control_id:
            answer = "AA"
        log.info("%s: received %s control_id=%s%s -> %s", name, entry["type"], control_id,
                 " (duplicate)" if duplicate else "", answer)
        if answer == "close":
            return False
        if answer == "none":
            return True
        if self.args.ack_delay > 0 and self.stop.wait(self.args.ack_delay):
            return False
        ack = build_ack(msh, message, answer, field_text(msh, 10) if msh is not None else "")
        sock.settimeout(SEND_SECONDS)
        try:
            sock.sendall(encode_frame(ack.encode("utf-8")))
        except (ssl.SSLError, OSError) as exc:
            log.warning("%s: sending the ACK failed: %s", name, exc)
            return False
        return True


def format_peer(peer):
    host, port = peer[0], peer[1]
    return ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)


def write_atomically(path, text):
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def parse_listen(value):
    host, sep, port = value.rpartition(":")
    if not sep or not host:
        raise argparse.ArgumentTypeError("expected HOST:PORT, got %r" % value)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        number = int(port)
    except ValueError:
        raise argparse.ArgumentTypeError("bad port in %r" % value)
    if not 0 <= number < 65536:
        raise argparse.ArgumentTypeError("port out of range in %r" % value)
    return host, number


def parse_answer(value):
    if value.upper() in ACK_CODES:
        return value.upper()
    if value.lower() in ("none", "close"):
        return value.lower()
    raise argparse.ArgumentTypeError(
        "expected one of %s, none, close; got %r" % (", ".join(ACK_CODES), value))


def parse_args(argv):
    parser = ArgumentParser(prog="ward_sim.py",
                            description="A ward system's MLLP receiver that records and ACKs.")
    parser.add_argument("--listen", required=True, type=parse_listen, metavar="HOST:PORT")
    parser.add_argument("--record", required=True, metavar="FILE.jsonl",
                        help="append one JSON line per received message")
    parser.add_argument("--ready-file", metavar="PATH",
                        help="write the bound HOST:PORT here once listening")
    parser.add_argument("--answer", type=parse_answer, default="AA", metavar="CODE",
                        help="AA (default), AE, AR, CA, CE, CR, none or close")
    parser.add_argument("--ack-delay", type=float, default=0.0, metavar="SECONDS",
                        help="wait before each ACK (default 0)")
    parser.add_argument("--duplicates-by-control-id", action="store_true",
                        help="mark repeated MSH-10s as duplicates and answer them AA")
    parser.add_argument("--tls", action="store_true", help="serve TLS")
    parser.add_argument("--cert", metavar="CERT.pem", help="server certificate (chain)")
    parser.add_argument("--key", metavar="KEY.pem", help="server private key")
    parser.add_argument("--ca", metavar="CA.pem",
                        help="require client certificates signed by this CA")
    args = parser.parse_args(argv)
    if args.tls and not (args.cert and args.key):
        parser.error("--tls needs --cert and --key")
    if not args.tls and (args.cert or args.key or args.ca):
        parser.error("--cert, --key and --ca need --tls")
    if args.ack_delay < 0:
        parser.error("--ack-delay must be >= 0")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s ward_sim %(levelname)s %(message)s")
    if args.ready_file:
        try:
            os.unlink(args.ready_file)
        except FileNotFoundError:
            pass
    try:
        sim = WardSim(args)
    except (OSError, ssl.SSLError) as exc:
        log.error("cannot start: %s", exc)
        return 1
    received = []

    def on_signal(signum, _frame):  # only sets flags: no locks in a handler
        received.append(signum)
        if not sim.stop.is_set():
            sim.stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        sim.listen()
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", args.listen[0], args.listen[1], exc)
        sim.recorder.close()
        return 1
    try:
        sim.serve()
    finally:
        if received:
            log.info("%s received; stopping", signal.Signals(received[0]).name)
        sim.shutdown()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
