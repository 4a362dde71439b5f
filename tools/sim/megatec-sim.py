#!/usr/bin/env python3
"""A Megatec/Voltronic Q1 UPS on a serial port or pty, replaying real replies.

Replies come from the fixture file (tab-separated: id, command, reply, ...), by id:
  megatec-sim.py --port /dev/pts/N --fixtures .../responses.txt --q1 nut-comment-q1 --f nut-comment-f
The control file (--control, JSON, re-read when it changes) switches what the UPS says:
  {"q1": "armac-r2000i-psw-onbatt"}        another fixture reply to Q1
  {"q1_line": "(000.0 000.0 220.0 045 50.0 21.6 30.0 11001000"}   a reply derived from the protocol
  {"silent": true}                          no answer at all
  {"garbage": 12}                           that many random bytes instead of the reply
Commands without a reply (and any unknown command) get "NAK", as real units do.
"""
import argparse
import json
import os
import random
import select
import sys
import termios
import time
import tty


def load_fixtures(path):
    replies = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 3:
                replies[cols[0]] = (cols[1], cols[2])
    return replies


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--q1", default="nut-comment-q1")
    ap.add_argument("--f", default="nut-comment-f")
    ap.add_argument("--i", default="microsinus-i")
    ap.add_argument("--control")
    ap.add_argument("--ready")
    a = ap.parse_args()
    fixtures = load_fixtures(a.fixtures)
    state = {"q1": a.q1, "f": a.f, "i": a.i}
    control_mtime = None

    fd = os.open(a.port, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    attrs = termios.tcgetattr(fd)
    attrs[4] = attrs[5] = termios.B2400
    termios.tcsetattr(fd, termios.TCSANOW, attrs)
    if a.ready:
        open(a.ready, "w").close()

    buffer = b""
    while True:
        if a.control:
            try:
                m = os.stat(a.control).st_mtime_ns
                if m != control_mtime:
                    control_mtime = m
                    with open(a.control) as f:
                        control = json.load(f)
                    state = {"q1": control.get("q1", a.q1), "f": a.f, "i": a.i, **control}
            except FileNotFoundError:
                pass
            except (json.JSONDecodeError, ValueError) as e:
                print(f"megatec-sim: bad control file: {e}", file=sys.stderr)
        ready, _, _ = select.select([fd], [], [], 0.05)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 64)
        except OSError:
            return
        if not chunk:
            return
        buffer += chunk
        while b"\r" in buffer:
            command, buffer = buffer.split(b"\r", 1)
            command = command.decode("ascii", "replace").strip()
            if state.get("silent"):
                continue
            if state.get("garbage"):
                os.write(fd, bytes(random.getrandbits(8) for _ in range(int(state["garbage"]))))
                continue
            reply = "NAK"
            if command == "Q1":
                reply = state.get("q1_line") or fixtures[state["q1"]][1]
            elif command in ("F", "I"):
                key = state[command.lower()]
                if key and key in fixtures:
                    reply = fixtures[key][1]
            time.sleep(0.01)  # units answer after a few ms
            os.write(fd, reply.encode("ascii") + b"\r")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
