#!/usr/bin/env python3
"""A closet's Modbus devices, served by pymodbus over TCP or RTU (a serial port or pty).

Unit ids: the APC Smart-UPS register map on --ups ids, the generic temperature/humidity
probe on --probes ids. Ids not listed do not answer at all (the client times out).

A test changes the devices while the simulator runs through a JSON control file
(--control), re-read whenever its mtime changes:
  {"ups": {"1": {"status": "OB", "charge": 42.0, "runtime": 600, "input_voltage": 0}},
   "probes": {"2": {"temperature": 31.5, "humidity": 60}},
   "silent": [3],            # these ids stop answering
   "bad_crc": [4],           # RTU answers to these ids get a corrupted CRC
   "garbage_before": 0}      # bytes of noise sent before each RTU answer
--line-baud N makes each RTU frame take the time it would on an N-baud 8N1 line
(10 bits a byte plus the 3.5-character gap), since a pty moves bytes at memory speed.
"""
import argparse
import asyncio
import json
import os
import random
import sys
import time

from pymodbus import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator.simdata import SimData
from pymodbus.simulator.simdevice import SimDevice
from pymodbus.simulator.simutils import DataType

STATUS_BITS = {"OL": 1, "OB": 2, "BYPASS": 3, "OVER": 21}


def u32(value):
    return [(value >> 16) & 0xFFFF, value & 0xFFFF]


def s16(value):
    return value & 0xFFFF


class Closet:
    def __init__(self, ups_ids, probe_ids):
        self.ups_ids = ups_ids
        self.probe_ids = probe_ids
        self.ups_state = {u: {"status": "OL", "charge": 100.0, "runtime": 3600, "battery_voltage": 27.3,
                              "temperature": 25.0, "load": 23.0, "output_voltage": 230.0,
                              "input_voltage": 229.5, "frequency": 50.0, "current": 2.5,
                              "low_battery": False, "replace_battery": False}
                          for u in ups_ids}
        self.probe_state = {p: {"temperature": 24.5, "humidity": 55.0} for p in probe_ids}
        self.silent = set()
        self.known = set(ups_ids) | set(probe_ids)
        self.bad_crc = set()
        self.garbage_before = 0
        self.holding = {u: {} for u in ups_ids}   # unit -> {address: word}
        self.input = {p: {} for p in probe_ids}
        self.render()
        self.devices = []
        for u in ups_ids:
            self.devices.append(self.device(u, holding=1600, inputs=0))
        for p in probe_ids:
            self.devices.append(self.device(p, holding=0, inputs=16))

    def device(self, unit, holding, inputs):
        """A unit with separate tables; every read first copies the simulated state in."""
        async def action(function_code, start_address, address, count, registers, set_values):
            table = self.holding.get(unit, {}) if function_code == 3 else self.input.get(unit, {})
            for reg, word in table.items():
                if 0 <= reg - start_address < len(registers):
                    registers[reg - start_address] = word
            return None
        # pymodbus wants every table present; a unit without holding (or input) registers gets
        # a one-register table, so reads beyond it answer "illegal data address".
        blocks = ([SimData(0, count=1, values=False, datatype=DataType.BITS)],
                  [SimData(0, count=1, values=False, datatype=DataType.BITS)],
                  [SimData(0, count=max(holding, 1), values=0, datatype=DataType.REGISTERS)],
                  [SimData(0, count=max(inputs, 1), values=0, datatype=DataType.REGISTERS)])
        return SimDevice(unit, simdata=blocks, action=action)

    def render(self):
        for u, s in self.ups_state.items():
            bits = 0
            for token in s["status"].split():
                if token in STATUS_BITS:
                    bits |= 1 << STATUS_BITS[token]
            regs = {0: u32(bits), 18: [2 if s["low_battery"] else 0, 4 if s["replace_battery"] else 0],
                    128: u32(int(s["runtime"])),
                    130: [int(round(s["charge"] * 512)), s16(int(round(s["battery_voltage"] * 32)))],
                    135: [s16(int(round(s["temperature"] * 128))), int(round(s["load"] * 256))],
                    140: [int(round(s["current"] * 32))], 142: [int(round(s["output_voltage"] * 64))],
                    144: [int(round(s["frequency"] * 128))],
                    150: [0, 0xFFFF if s["input_voltage"] is None else int(round(s["input_voltage"] * 64))]}
            for address, values in regs.items():
                for i, v in enumerate(values):
                    self.holding[u][address + i] = v
        for p, s in self.probe_state.items():
            self.input[p][1] = s16(int(round(s["temperature"] * 10)))
            self.input[p][2] = int(round(s["humidity"] * 10))

    def apply(self, control):
        for u, values in control.get("ups", {}).items():
            self.ups_state[int(u)].update(values)
        for p, values in control.get("probes", {}).items():
            self.probe_state[int(p)].update(values)
        self.silent = set(control.get("silent", []))
        self.bad_crc = set(control.get("bad_crc", []))
        self.garbage_before = int(control.get("garbage_before", 0))
        self.render()


def make_trace(closet, line_baud):
    def trace(sending, data):
        if not sending:
            if line_baud:
                time.sleep(len(data) * 10 / line_baud + 3.5 * 10 / line_baud)
            return data
        unit = data[0] if data else None
        if unit in closet.silent or unit not in closet.known:
            return b""
        if line_baud:
            time.sleep(len(data) * 10 / line_baud + 3.5 * 10 / line_baud)
        if unit in closet.bad_crc and len(data) > 2:
            data = data[:-2] + bytes([data[-2] ^ 0xFF, data[-1]])
        if closet.garbage_before:
            data = bytes(random.getrandbits(8) for _ in range(closet.garbage_before)) + data
        return data
    return trace


def make_tcp_trace(closet):
    def trace(sending, data):
        # MBAP header: unit id is byte 6.
        if sending and len(data) > 6 and (data[6] in closet.silent or data[6] not in closet.known):
            return b""
        return data
    return trace


async def watch(closet, path):
    mtime = None
    while True:
        try:
            m = os.stat(path).st_mtime_ns
            if m != mtime:
                mtime = m
                with open(path) as f:
                    closet.apply(json.load(f))
        except FileNotFoundError:
            pass
        except (json.JSONDecodeError, KeyError, ValueError) as e:
            print(f"modbus-sim: bad control file {path}: {e}", file=sys.stderr)
        await asyncio.sleep(0.05)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tcp", type=int, help="serve Modbus TCP on 127.0.0.1:PORT")
    ap.add_argument("--rtu", help="serve Modbus RTU on this serial port / pty")
    ap.add_argument("--ups", default="1", help="unit ids with the APC SMT map, comma separated")
    ap.add_argument("--probes", default="2,3,4,5", help="unit ids with the T/H probe map")
    ap.add_argument("--control", help="JSON control file, re-read when it changes")
    ap.add_argument("--line-baud", type=int, default=0)
    ap.add_argument("--ready", help="file to create once serving")
    a = ap.parse_args()
    ids = lambda s: [int(x) for x in s.split(",") if x]
    closet = Closet(ids(a.ups), ids(a.probes))
    if a.tcp:
        server = ModbusTcpServer(closet.devices, address=("127.0.0.1", a.tcp), ignore_missing_devices=True,
                                 trace_packet=make_tcp_trace(closet))
    else:
        server = ModbusSerialServer(closet.devices, framer=FramerType.RTU, port=a.rtu, baudrate=9600,
                                    ignore_missing_devices=True, trace_packet=make_trace(closet, a.line_baud))
    tasks = [asyncio.create_task(server.serve_forever())]
    if a.control:
        tasks.append(asyncio.create_task(watch(closet, a.control)))
    if a.ready:
        await asyncio.sleep(0.2)
        open(a.ready, "w").close()
    await asyncio.gather(*tasks)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
