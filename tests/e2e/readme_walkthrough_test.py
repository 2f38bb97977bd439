#!/usr/bin/env python3
"""The README's walk-through, run as written on the demo: the README is the only script.

    readme_walkthrough_test.py SOURCE_DIR BINARY_DIR      (ctest -L e2e runs it)

Each shell block of README.md that is part of the walk-through has an HTML comment before it
(invisible on GitHub) saying what its commands must do, one line per command (or one line for all):

    <!-- walkthrough: exit=0 within=20s output=comment -->
    ```sh
    build/release/tools/frontdoor --as P85901 get REFERRAL_ID
    # ... "delivery_state": "DELIVERED", "delivered_at": "...", "delivery_attempts": 1
    ```

    demo              this command starts the demo (scripts/demo): the test runs it in the background
    skip: WHY         not run
    exit=N            its exit status
    /REGEX/           its output (stdout and stderr, as a terminal shows them) has a match (Python re,
                      multi-line); !/REGEX/ has none
    output=below      its whole output is the block right after this one
    output=comment    the `# ...` lines after it in the block are found in its output
    capture=NAME:/RE/ group 1 of RE in its output replaces NAME in the commands after it
    within=Ns         run again until all of it holds, for up to N seconds (something still arriving)

In output=below and output=comment, `...` stands for any text, whitespace for any whitespace (or
none), and a UUID (whole, or its first 8 digits and a dash before `...`) for any UUID: ids are new
every run.

How it runs, as a user would: a project folder of its own (every entry of SOURCE_DIR linked in, its
own empty var/, build/release linked to BINARY_DIR), so the demo's store, the certificates and what
the commands write (var/ig/...) stay out of the repository and away from a demo already running.
The demo command runs there with FRONTDOOR_DEMO_PORT_BASE (eleven free ports below the ephemeral range,
another ten if taken), FRONTDOOR_DEMO_PREBUILT=1 and progress every 200 ms; then one bash, in that
folder, runs each command in turn (its variables carry over, as in one terminal), with
FRONTDOOR_TARGET naming the demo's gateway and the demo's default ports in a command (127.0.0.1:8443,
127.0.0.1 2575, ...) moved to the ones it got. A failing step is named by its README line; so is
a file the commands leave in the project folder outside var/. Every process started is stopped at
the end, however it ends (Ctrl-C to the demo, then SIGKILL).
"""

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# scripts/demo's default ports, and their offsets under FRONTDOOR_DEMO_PORT_BASE.
DEMO_PORTS = {50051: 0, 50061: 1, 50062: 2, 50063: 3, 50064: 4, 9464: 5, 8443: 6, 2575: 7, 2576: 8, 9443: 9,
              8444: 10}
STEP_SECONDS = 30  # a command that takes longer has hung
DEMO_START_SECONDS = 60
BUDGET_SECONDS = 150  # the whole run; ctest's TIMEOUT is above it, so the test always cleans up itself


class ReadmeError(Exception):
    """The README's markers cannot be read: a test failure naming the line."""


class Step:
    def __init__(self, line, command, comments, expect, below):
        self.line = line  # README line of the command's first line
        self.command = command
        self.comments = comments  # the `# ...` lines after it in its block
        self.expect = expect  # dict from parse_expectation
        self.below = below  # (line, text) of the block after this one, for output=below


def parse_expectation(text, line):
    words = text.strip()
    if words == "demo":
        return {"demo": True}
    if words.startswith("skip"):
        return {"skip": words}
    expect = {"exit": None, "match": [], "no_match": [], "output": None, "capture": [], "within": 0.0}
    token = re.compile(r"capture=(\w+):/((?:\\.|[^/\\])*)/|(!?)/((?:\\.|[^/\\])*)/|(\S+)")
    for m in token.finditer(words):
        if m.group(1):
            expect["capture"].append((m.group(1), re.compile(m.group(2).replace("\\/", "/"), re.M)))
        elif m.group(4) is not None:
            regex = re.compile(m.group(4).replace("\\/", "/"), re.M)
            expect["no_match" if m.group(3) else "match"].append(regex)
        else:
            word = m.group(5)
            key, _, value = word.partition("=")
            if key == "exit" and value.isdigit():
                expect["exit"] = int(value)
            elif key == "output" and value in ("below", "comment"):
                expect["output"] = value
            elif key == "within" and re.fullmatch(r"\d+(\.\d+)?s", value):
                expect["within"] = float(value[:-1])
            else:
                raise ReadmeError(f"README.md:{line}: walkthrough comment: what is '{word}'?")
    return expect


def fenced_block(lines, i):
    """The fenced block opening at lines[i] (after blank lines): (first content index, contents, end)."""
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines) or not lines[i].startswith("```"):
        return None
    j = i + 1
    while j < len(lines) and not lines[j].startswith("```"):
        j += 1
    return i + 1, lines[i + 1 : j], j + 1


def parse_readme(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    steps = []
    i = 0
    while i < len(lines):
        if not lines[i].startswith("<!-- walkthrough:"):
            i += 1
            continue
        marker_line = i + 1
        body = lines[i][len("<!-- walkthrough:") :]
        while "-->" not in body:
            i += 1
            if i >= len(lines):
                raise ReadmeError(f"README.md:{marker_line}: walkthrough comment never closed")
            body += "\n" + lines[i]
        body = body[: body.index("-->")]
        block = fenced_block(lines, i + 1)
        if block is None:
            raise ReadmeError(f"README.md:{marker_line}: a walkthrough comment must come right before a ``` block")
        first, contents, i = block
        below = None
        after = fenced_block(lines, i)
        if after is not None:
            below = (after[0] + 1, "\n".join(after[1]))
        commands = []  # [line, text, comments]
        k = 0
        while k < len(contents):
            text = contents[k]
            if not text.strip():
                k += 1
                continue
            if text.lstrip().startswith("#"):
                if commands:
                    commands[-1][2].append(text.lstrip()[1:].strip())
                k += 1
                continue
            start = first + k + 1
            while text.endswith("\\") and k + 1 < len(contents):
                k += 1
                text += "\n" + contents[k]
            commands.append([start, text, []])
            k += 1
        expectations = [e for e in body.split("\n") if e.strip()]
        if len(expectations) == 1:
            expectations *= len(commands)
        if len(expectations) != len(commands):
            raise ReadmeError(
                f"README.md:{marker_line}: {len(expectations)} expectations for {len(commands)} commands"
            )
        for (line, text, comments), e in zip(commands, expectations):
            expect = parse_expectation(e, marker_line)
            if expect.get("output") == "below" and below is None:
                raise ReadmeError(f"README.md:{line}: output=below, but no block follows")
            if expect.get("output") == "comment" and not comments:
                raise ReadmeError(f"README.md:{line}: output=comment, but no `# ...` line follows it")
            steps.append(Step(line, text, comments, expect, below))
    return steps


def template_regex(template):
    """A shown output as a regex: `...` any text, whitespace any whitespace, a UUID any UUID."""
    parts = []
    pos = 0
    for m in re.finditer(r"(\.\.\.)|(%s)|([0-9a-f]{8}-(?=\.\.\.))|(\s+)" % UUID, template):
        parts.append(re.escape(template[pos : m.start()]))
        parts.append(".*?" if m.group(1) else UUID if m.group(2) else "[0-9a-f]{8}-" if m.group(3) else r"\s*")
        pos = m.end()
    parts.append(re.escape(template[pos:]))
    return "".join(parts)


def check(step, rc, output):
    """What does not hold of this run of the step: a list of sentences, empty when all holds."""
    e = step.expect
    wrong = []
    if e["exit"] is not None and rc != e["exit"]:
        wrong.append(f"exit status {rc}, the README says {e['exit']}")
    for regex in e["match"]:
        if not regex.search(output):
            wrong.append(f"no match for /{regex.pattern}/")
    for regex in e["no_match"]:
        if regex.search(output):
            wrong.append(f"a match for /{regex.pattern}/, which must not be there")
    if e["output"] == "below":
        line, text = step.below
        if not re.fullmatch(template_regex(text.strip()), output.strip(), re.S):
            wrong.append(f"the output is not the one shown at README.md:{line}")
    if e["output"] == "comment":
        for template in step.comments:
            regex = r"(?<![\w.])" + template_regex(template) + r"(?![\w.])"
            if not re.search(regex, output, re.S):
                wrong.append(f"the output has nothing like `# {template}`")
    for name, regex in e["capture"]:
        if not regex.search(output):
            wrong.append(f"no {name} in the output (/{regex.pattern}/)")
    return wrong


def port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_port_base():
    """Eleven consecutive free ports below Linux's ephemeral range (32768-), where port-0 tests live."""
    for _ in range(200):
        base = random.randrange(20000, 32000, 11)
        if all(port_free(base + k) for k in range(11)):
            return base
    raise RuntimeError("no eleven consecutive free ports in 20000-32000")


def make_project_folder(source_dir, binary_dir, root):
    proj = os.path.join(root, "project")
    os.makedirs(os.path.join(proj, "build"))
    os.makedirs(os.path.join(proj, "var"))
    for name in os.listdir(source_dir):
        if name not in ("build", "var", ".git", ".cache"):
            os.symlink(os.path.join(source_dir, name), os.path.join(proj, name))
    os.symlink(binary_dir, os.path.join(proj, "build", "release"))
    return proj


class ProcessGroup:
    """A process started in a session of its own, stopped with all it started."""

    def __init__(self, argv, cwd, env, stdin=subprocess.DEVNULL, stdout=None):
        self.proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=stdin, stdout=stdout, stderr=subprocess.STDOUT,
            start_new_session=True, text=True)

    def alive(self):
        return self.proc.poll() is None

    def stop(self, first_signal, grace):
        deadline = time.monotonic() + grace
        sig = first_signal
        while True:
            self.proc.poll()
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            if sig == signal.SIGKILL:
                sig = 0
            elif time.monotonic() > deadline:
                sig = signal.SIGKILL
            else:
                sig = 0
            time.sleep(0.1)


class Walkthrough:
    def __init__(self, source_dir, binary_dir, placeholders):
        self.placeholders = placeholders  # the names steps capture, which later commands use
        self.root = tempfile.mkdtemp(prefix="frontdoor-walkthrough-")
        self.proj = make_project_folder(source_dir, binary_dir, self.root)
        self.entries = set(os.listdir(self.proj))  # anything more at the end, a command wrote
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDOOR_")}
        self.demo = None
        self.shell = None
        self.base = None
        self.values = {}  # captured placeholders
        self.deadline = time.monotonic() + BUDGET_SECONDS

    # --- the demo ---------------------------------------------------------------------------------

    def demo_log(self):
        path = os.path.join(self.root, "demo.log")
        return open(path, encoding="utf-8", errors="replace").read() if os.path.exists(path) else ""

    def start_demo(self, step):
        for _ in range(3):
            self.base = free_port_base()
            env = dict(self.env, FRONTDOOR_DEMO_PORT_BASE=str(self.base), FRONTDOOR_DEMO_PREBUILT="1",
                       FRONTDOOR_DEMO_PROGRESS_MS="200")
            log = open(os.path.join(self.root, "demo.log"), "w")
            self.demo = ProcessGroup(["bash", "-c", step.command], self.proj, env, stdout=log)
            log.close()
            start = time.monotonic()
            while self.demo.alive() and time.monotonic() - start < DEMO_START_SECONDS and time.monotonic() < self.deadline:
                if "frontdoor demo network is up" in self.demo_log():
                    time.sleep(0.3)  # the simulators beside it bind their ports too
                    if self.demo.alive():
                        print(f"ok   README.md:{step.line}: {step.command.split('#')[0].strip()}"
                              f" (ports {self.base}-{self.base + 10}, up in {time.monotonic() - start:.1f} s)")
                        return []
                time.sleep(0.1)
            self.demo.stop(signal.SIGINT, 10)
            if not re.search(r"in use|bind|failed to add port", self.demo_log(), re.I):
                break  # not a port taken in the meantime: other ports will not help
            print(f"the demo did not start on ports {self.base}-{self.base + 10} (taken?); trying others")
        return [f"the demo did not come up within {DEMO_START_SECONDS} s; its output ends:\n" + tail(self.demo_log())]

    # --- the commands -----------------------------------------------------------------------------

    def start_shell(self):
        env = dict(self.env, FRONTDOOR_TARGET=f"127.0.0.1:{self.base}")
        self.shell_log = open(os.path.join(self.root, "shell.log"), "w")
        self.shell = ProcessGroup(["bash", "--noprofile", "--norc"], self.proj, env,
                                  stdin=subprocess.PIPE, stdout=self.shell_log)
        self.runs = 0

    def as_run(self, command):
        """The command with the demo's default ports moved to this run's, and captured values in."""
        def port(m):
            default = int(m.group(2))
            return m.group(1) + str(self.base + DEMO_PORTS[default]) if default in DEMO_PORTS else m.group(0)
        text = re.sub(r"(127\.0\.0\.1[: ])(\d+)\b", port, command)
        for name, value in self.values.items():
            text = re.sub(r"\b%s\b" % name, value, text)
        return text

    def run_once(self, command):
        """(exit status, output) of one run in the shell, or None when it did not finish in time."""
        self.runs += 1
        out = os.path.join(self.root, f"step-{self.runs}.out")
        rc = os.path.join(self.root, f"step-{self.runs}.rc")
        self.shell.proc.stdin.write(f'{{ {command}\n}} </dev/null >"{out}" 2>&1; echo $? >"{rc}.tmp"; mv "{rc}.tmp" "{rc}"\n')
        self.shell.proc.stdin.flush()
        deadline = min(time.monotonic() + STEP_SECONDS, self.deadline)
        while not os.path.exists(rc):
            if time.monotonic() > deadline or not self.shell.alive():
                return None
            time.sleep(0.02)
        return int(open(rc).read()), open(out, encoding="utf-8", errors="replace").read()

    def run_step(self, step):
        command = self.as_run(step.command)
        unknown = [name for name in self.placeholders if re.search(r"\b%s\b" % name, command)]
        if unknown:
            return [f"{unknown[0]} stands for a value no step before it captured"], False
        start = time.monotonic()
        while True:
            result = self.run_once(command)
            if result is None:
                return [f"did not finish within {STEP_SECONDS} s (the steps after it were not run)"], True
            rc, output = result
            wrong = check(step, rc, output)
            if not wrong or time.monotonic() - start >= step.expect["within"]:
                break
            time.sleep(0.3)
        for name, regex in step.expect["capture"]:
            found = regex.search(output)
            if found:
                self.values[name] = found.group(1)
        if wrong:
            if command != step.command:
                wrong.append(f"ran as: {command}")
            return wrong + ["output:\n" + indent(output)], False
        return [], False

    # --- the whole ------------------------------------------------------------------------------

    def run(self, steps):
        failures = 0
        ran = 0
        for step in steps:
            if "skip" in step.expect:
                continue
            if "demo" in step.expect:
                wrong = self.start_demo(step)
                if wrong:
                    report(step, wrong)
                    return 1
                self.start_shell()
                continue
            if self.demo is None:
                report(step, ["comes before the demo command: the walk-through needs the demo running"])
                return 1
            if not self.demo.alive():
                report(step, ["the demo has stopped; its output ends:\n" + tail(self.demo_log())])
                return 1
            began = time.monotonic()
            wrong, fatal = self.run_step(step)
            ran += 1
            if wrong:
                failures += 1
                report(step, wrong)
                if fatal:
                    break
            else:
                print(f"ok   README.md:{step.line}: {first_line(step.command)} ({time.monotonic() - began:.1f} s)")
        if ran == 0:
            print("FAIL: no walkthrough steps found in README.md", file=sys.stderr)
            return 1
        written = sorted(set(os.listdir(self.proj)) - self.entries)
        if written:
            failures += 1
            print(f"FAIL the README's commands wrote {', '.join(written)} into the project folder: outputs go under"
                  " var/ (git-ignored)", file=sys.stderr)
        if failures:
            print(f"\n{failures} failure(s) in {ran} README steps; the demo's output ends:\n{tail(self.demo_log())}",
                  file=sys.stderr)
            return 1
        print(f"all {ran} README steps hold")
        return 0

    def close(self):
        if self.shell is not None:
            self.shell.stop(signal.SIGKILL, 0)
            self.shell_log.close()
        if self.demo is not None:
            self.demo.stop(signal.SIGINT, 15)  # Ctrl-C, as a user stops it
        if os.environ.get("FRONTDOOR_WALKTHROUGH_KEEP"):
            print(f"kept {self.root}")
        else:
            shutil.rmtree(self.root, ignore_errors=True)


def first_line(command):
    line = command.split("\n")[0].rstrip("\\ ")
    return line if len(line) <= 100 else line[:97] + "..."


def indent(text):
    lines = [l if len(l) <= 300 else l[:300] + " ..." for l in text.rstrip("\n").split("\n")]
    if len(lines) > 40:
        lines = lines[:40] + [f"... ({len(lines) - 40} more lines)"]
    return "\n".join("    " + l for l in lines)


def tail(text, n=25):
    return indent("\n".join(text.rstrip("\n").split("\n")[-n:]))


def report(step, wrong):
    print(f"FAIL README.md:{step.line}: {first_line(step.command)}", file=sys.stderr)
    for w in wrong:
        print(f"  {w}", file=sys.stderr)
    sys.stderr.flush()


def main():
    if len(sys.argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    sys.stdout.reconfigure(line_buffering=True)  # in order with stderr in ctest's log
    source_dir, binary_dir = (os.path.abspath(a) for a in sys.argv[1:])
    for tool in ("tools/frontdoor", "tools/frontdoor-connector-sim", "tools/frontdoor-referrer-sim",
                 "gateway/frontdoor-gateway"):
        if not os.access(os.path.join(binary_dir, tool), os.X_OK):
            print(f"FAIL: {binary_dir}/{tool} is not built", file=sys.stderr)
            return 1
    try:
        steps = parse_readme(os.path.join(source_dir, "README.md"))
    except ReadmeError as e:
        print(f"FAIL {e}", file=sys.stderr)
        return 1

    def stop(signum, _frame):
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop)
    placeholders = {name for step in steps for name, _ in step.expect.get("capture", [])}
    walkthrough = Walkthrough(source_dir, binary_dir, placeholders)
    started = time.monotonic()
    try:
        return walkthrough.run(steps)
    finally:
        walkthrough.close()
        print(f"({time.monotonic() - started:.1f} s)")


if __name__ == "__main__":
    sys.exit(main())
