#!/usr/bin/env python3
"""Reads the ACKs the adapters render with python-hl7, an HL7 v2 implementation independent of ours.

    check_hl7_ack.py --writer path/to/write_hl7_acks --samples tests/data/samples
    check_hl7_ack.py --acks DIR --samples tests/data/samples [--decisions]

With --writer it runs the writer into a temporary directory first. For every NAME.ack it checks
that python-hl7 parses it, MSH-9 is ACK^I12^ACK, MSA-2 is the request's MSH-10 (read from
NAME.hl7 in the samples), and MSA-1 is AA, except for the sample without PID (AE: REJECTED with
MISSING_ELEMENT). With --decisions the ACKs are the gateway's answers after the whole decision
(consent, routing), and MSA-1 must follow the sample's expected disposition in expected.json: AA
when ACCEPTED, AE or AR otherwise. Exit 0 when all hold, 1 on a failure, 77 (CTest SKIP_RETURN_CODE) when python-hl7
is not installed (Debian: apt-get install python3-hl7).
"""
import argparse
import pathlib
import subprocess
import sys
import tempfile

try:
    import hl7
except ImportError:
    print("SKIP: python-hl7 is not installed for %s (apt-get install python3-hl7)" % sys.executable)
    sys.exit(77)

# The samples whose ACK is not AA, and what it must be (shared/samples/README.md).
EXPECTED_MSA1 = {"21-hl7-missing-pid": "AE"}


def field(message, segment, number):
    return str(message.segment(segment)[number])


def decision_expectations(samples_dir):
    """MSA-1 per sample from expected.json: AA when ACCEPTED, else AE or AR."""
    import json
    expected = json.loads((pathlib.Path(samples_dir) / "expected.json").read_text())
    return {pathlib.Path(name).stem: ("AA",) if want["disposition"] == "ACCEPTED" else ("AE", "AR")
            for name, want in expected.items() if name.endswith(".hl7")}


def check(ack_dir, samples_dir, decisions=False):
    failures = []
    allowed = decision_expectations(samples_dir) if decisions else {}
    acks = sorted(pathlib.Path(ack_dir).glob("*.ack"))
    requests = sorted(pathlib.Path(samples_dir).glob("*.hl7"))
    if not acks or len(acks) != len(requests):
        return ["expected one ACK per sample: %d ACKs for %d samples" % (len(acks), len(requests))]
    for ack_path in acks:
        name = ack_path.stem
        text = ack_path.read_bytes().decode("utf-8")
        if "\n" in text:
            failures.append("%s: segments must be separated by CR only" % name)
        request_text = (pathlib.Path(samples_dir) / (name + ".hl7")).read_bytes().decode("utf-8")
        try:
            ack = hl7.parse(text)
            request = hl7.parse(request_text)
            msh9 = field(ack, "MSH", 9)
            msa1 = field(ack, "MSA", 1)
            msa2 = field(ack, "MSA", 2)
            control_id = field(request, "MSH", 10)
        except Exception as error:  # python-hl7 raises several kinds
            failures.append("%s: python-hl7 could not read it: %r" % (name, error))
            continue
        want = allowed.get(name, (EXPECTED_MSA1.get(name, "AA"),))
        if msh9 != "ACK^I12^ACK":
            failures.append("%s: MSH-9 is %r" % (name, msh9))
        if msa1 not in want:
            failures.append("%s: MSA-1 is %r, expected %s" % (name, msa1, " or ".join(want)))
        if msa2 != control_id:
            failures.append("%s: MSA-2 is %r, expected the request's MSH-10 %r" % (name, msa2, control_id))
        if "AA" not in want and not list(ack.segments("ERR")):
            failures.append("%s: a non-AA ACK must carry an ERR" % name)
        print("%s: MSA-1 %s, MSA-2 %s" % (name, msa1, msa2))
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", required=True)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--writer")
    group.add_argument("--acks")
    parser.add_argument("--decisions", action="store_true")
    args = parser.parse_args()
    if args.writer:
        with tempfile.TemporaryDirectory(prefix="frontdoor-acks-") as ack_dir:
            subprocess.run([args.writer, args.samples, ack_dir], check=True)
            failures = check(ack_dir, args.samples)
    else:
        failures = check(args.acks, args.samples, args.decisions)
    for failure in failures:
        print("FAIL: " + failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
