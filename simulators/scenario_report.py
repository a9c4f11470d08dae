"""The report of a scenario run: the expectations (met when, or missed with what was seen),
a timeline of what happened, the exit code, and the same as JUnit XML for CI.

Timeline lines come from three places: what the runner did (crew, link, SEH), what the
devices did (cable out, tunnel), and what changed between two snapshots of the product
(broker state, devices, alarms, message states, banners, the SEH's copy). Alarm texts
are shown without their values and no form content is ever printed.
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from pathlib import Path

from simulators.scenario_expect import Snapshot


def _alarm_words(alarm: dict) -> str:
    return f"{alarm['marker']} {alarm['message'].split(':')[0]}"


class Report:
    def __init__(self, name: str, speed: float):
        self.name, self.speed = name, speed
        self.timeline: list[tuple[float, str, str]] = []
        self.skipped: list[str] = []
        self.failures: list[tuple[float, str, str]] = []  # crew/SEH actions the product refused
        self.verdicts: list = []
        self.problem: str | None = None
        self.wire: str | None = None
        self._lock = threading.Lock()

    def add(self, t: float, source: str, text: str) -> None:
        with self._lock:
            self.timeline.append((t, source, text))

    def skip(self, what: str) -> None:
        self.skipped.append(what)

    def failed_action(self, t: float, what: str, why: str) -> None:
        self.failures.append((t, what, why))

    def started(self) -> None:
        self.add(0.0, "start", "klok loopt")

    def aborted(self, why: str) -> None:
        self.problem = why

    def exit_code(self) -> int:
        ok = self.problem is None and not self.failures and all(v.met for v in self.verdicts)
        return 0 if ok else 1

    # -- what changed between two snapshots --------------------------------------------------
    def changes(self, before: Snapshot | None, now: Snapshot, rit_ids: dict[str, str]) -> None:
        t = now.t
        old_health = (before.health if before else None) or {}
        health = now.health or {}
        if now.health is None and (before is None or before.health is not None):
            self.add(t, "tablet", "tablet antwoordt niet")
        if health.get("broker") and health.get("broker") != old_health.get("broker"):
            self.add(t, "tablet", f"tablet ↔ broker: {health['broker']}")
        for device, state in (health.get("devices") or {}).items():
            if state != (old_health.get("devices") or {}).get(device):
                self.add(t, "tablet", f"apparaat {device}: {state}")
        old_alarms = {a["key"]: a for a in (before.alarms if before else [])}
        alarms = {a["key"]: a for a in now.alarms}
        for key in alarms.keys() - old_alarms.keys():
            self.add(t, "alarm", f"{_alarm_words(alarms[key])} ({alarms[key]['priority']})")
        for key in old_alarms.keys() - alarms.keys():
            self.add(t, "alarm", f"weg: {_alarm_words(old_alarms[key])}")
        for label in rit_ids:
            self._rit_changes(t, label, (before.rits.get(label) if before else None), now.rits.get(label))
            old_seh = before.seh.get(label) if before else None
            seh = now.seh.get(label)
            if seh is not None and (old_seh is None or (old_seh["seq"], old_seh["status"]) != (seh["seq"], seh["status"])):
                self.add(t, "SEH", f"rit '{label}' bij SEH: seq {seh['seq']} {seh['status']}")

    def _rit_changes(self, t: float, label: str, before: dict | None, now: dict | None) -> None:
        if now is None:
            return
        old_states = {m["msg_id"]: m["state"] for m in (before or {}).get("messages", [])}
        for message in now["messages"]:
            if old_states.get(message["msg_id"]) != message["state"]:
                self.add(t, "tablet", f"rit '{label}' bericht seq {message['seq']} ({message['status']}): "
                                      f"{message['state']}")
        old_warnings = {w["text"] for w in (before or {}).get("warnings", [])}
        warnings = {w["text"] for w in now.get("warnings", [])}
        for text in warnings - old_warnings:
            self.add(t, "banner", f"LET OP {text}")
        for text in old_warnings - warnings:
            self.add(t, "banner", f"weg: {text}")

    # -- output ------------------------------------------------------------------------------
    def text(self) -> str:
        lines = [f"scenario: {self.name} (snelheid {self.speed:g}x; tijden in scenarioseconden)", ""]
        lines.append("verwachtingen:")
        for v in self.verdicts:
            mark = "GEHAALD" if v.met else "GEMIST "
            when = f"t={v.at:7.1f} s" if v.at is not None else "t=      - "
            lines.append(f"  {mark} {when}  {v.name} (uiterlijk {v.deadline:g} s) — {v.detail}")
        for t, what, why in self.failures:
            lines.append(f"  MISLUKT t={t:7.1f} s  {what}: {why}")
        if self.problem:
            lines.append(f"  AFGEBROKEN: {self.problem}")
        for what in self.skipped:
            lines.append(f"  overgeslagen: {what}")
        if self.wire:
            lines += ["", f"over de broker: {self.wire}"]
        lines += ["", "tijdlijn:"]
        with self._lock:
            for t, source, text in sorted(self.timeline, key=lambda row: row[0]):
                lines.append(f"  {t:8.1f}  {source:<8} {text}")
        met = sum(1 for v in self.verdicts if v.met)
        lines += ["", f"{met}/{len(self.verdicts)} verwachtingen gehaald, {len(self.failures)} acties mislukt"
                      + (" — GESLAAGD" if self.exit_code() == 0 else " — NIET GESLAAGD")]
        return "\n".join(lines)

    def write_junit(self, path: Path) -> None:
        cases = [(v.name, None if v.met else f"gemist: {v.detail}", v.at) for v in self.verdicts]
        cases += [(f"actie {what}", f"mislukt: {why}", t) for t, what, why in self.failures]
        if self.problem:
            cases.append(("scenario", f"afgebroken: {self.problem}", None))
        suite = ET.Element("testsuite", name=self.name, tests=str(len(cases)),
                           failures=str(sum(1 for c in cases if c[1])))
        for name, failure, at in cases:
            case = ET.SubElement(suite, "testcase", classname="scenario", name=name,
                                 time="0" if at is None else f"{at / self.speed:.3f}")
            if failure:
                ET.SubElement(case, "failure", message=failure).text = failure
        ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
