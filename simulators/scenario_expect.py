"""The expectations of a scenario: each a question about what the product shows, asked of
every snapshot the runner takes, met the first time the answer is yes (with that time), or
missed at its deadline (with what was seen last).

Every question maps onto something the product exposes over HTTP: the tablet's rit view
(messages and their states, the amber banner), its header strip as the crew reads it, its
live alarms, health and position; the SEH's copy of the form and its hash.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

STATE_ORDER = {"saved": 0, "queued": 0, "sent": 1, "delivered": 2, "read": 3}


@dataclass
class Snapshot:
    """What the tablet and the SEH showed at scenario second ``t`` (None: not reachable)."""

    t: float
    health: dict | None = None
    alarms: list[dict] = field(default_factory=list)
    rits: dict[str, dict | None] = field(default_factory=dict)  # label -> the tablet's rit view
    seh: dict[str, dict | None] = field(default_factory=dict)  # label -> the SEH's rit
    headers: dict[str, str] = field(default_factory=dict)  # label -> words of the header strip
    entries: dict[str, list[dict]] = field(default_factory=dict)  # label -> the tablet's entry log
    position: dict | None = None
    proposals: dict[str, list[dict]] = field(default_factory=dict)


def entry_ids_in(form: Any) -> Counter:
    """Every entry id in a form: the keys of objects that hold an entry (have a log position)."""
    found: Counter = Counter()
    if isinstance(form, dict):
        for key, value in form.items():
            if isinstance(value, dict) and "position" in value and "recorded_at" in value:
                found[key] += 1
            else:
                found += entry_ids_in(value)
    return found


def name_of(item) -> str:
    if item.name:
        return item.name
    words = {
        "seh_has_form": lambda e: "SEH heeft het formulier met de hash van de tablet"
                                  + (f" (status {e.status})" if e.status else ""),
        "message_state": lambda e: f"berichten van de rit op de tablet: {e.state}",
        "banner": lambda e: f"kopregel {'toont niet' if e.absent else 'toont'} '{e.text}'",
        "alarm": lambda e: f"alarm '{e.text}'" + (f" prioriteit {e.priority}" if e.priority else ""),
        "device": lambda e: f"{e.device} {e.state}",
        "broker": lambda e: f"broker {e.state}",
        "seh_vital": lambda e: f"SEH ziet {e.parameter} " + (f"< {e.below:g}" if e.below is not None else f"> {e.above:g}"),
        "eta": lambda e: f"ETA binnen {e.tolerance_pct:g} % van de werkelijke aankomst",
        "no_loss": lambda e: "geen invoer verloren of dubbel (op id)",
        "proposal": lambda e: f"GPS stelt {e.which} voor",
        "tablet_feedback": lambda e: "terugkoppeling van de SEH op de tablet",
    }
    return words[item.what](item)


def _rit(snap: Snapshot, label: str) -> dict | None:
    return snap.rits.get(label)


def check(item, snap: Snapshot, context: dict) -> tuple[bool, str]:
    """(answer, what was seen) for one expectation against one snapshot."""
    return CHECKS[item.what](item, snap, context)


def _seh_has_form(item, snap, context):
    edge, seh = _rit(snap, item.rit), snap.seh.get(item.rit)
    if edge is None or seh is None:
        return False, "SEH heeft de rit niet" if edge else "rit niet op de tablet"
    same = seh["form_sha256"] == edge["form_sha256"]
    status_ok = item.status is None or seh["status"] == item.status
    return same and status_ok, f"SEH seq {seh['seq']} status {seh['status']}, hash {'gelijk' if same else 'anders'}"


def _message_state(item, snap, context):
    edge = _rit(snap, item.rit)
    if not edge or not edge["messages"]:
        return False, "nog geen berichten"
    states = [m["state"] for m in edge["messages"]]
    wanted = STATE_ORDER[item.state]
    return all(STATE_ORDER.get(s, -1) >= wanted for s in states), "toestanden " + ",".join(states)


def _banner(item, snap, context):
    words = snap.headers.get(item.rit)
    if words is None:
        return False, "kopregel niet te lezen"
    shown = item.text.lower() in words.lower()
    return shown, "getoond" if shown else "niet getoond"


def _alarm(item, snap, context):
    for alarm in snap.alarms:
        if item.text.lower() in alarm["message"].lower() and (item.priority is None or alarm["priority"] == item.priority):
            return True, f"{alarm['marker']} {alarm['message'].split(':')[0]} ({alarm['priority']})"
    shown = [a["message"].split(":")[0] for a in snap.alarms]
    return False, "alarmen: " + (", ".join(shown) or "geen")


def _device(item, snap, context):
    state = ((snap.health or {}).get("devices") or {}).get(item.device)
    return state == item.state, f"{item.device} {state or 'onbekend'}"


def _broker(item, snap, context):
    state = (snap.health or {}).get("broker")
    return state == item.state, f"broker {state or 'onbekend'}"


def _seh_vital(item, snap, context):
    seh = snap.seh.get(item.rit)
    if seh is None:
        return False, "SEH heeft de rit niet"
    values = [v.get("value") for v in (seh["form"].get("vitals") or {}).values()
              if v.get("parameter") == item.parameter and isinstance(v.get("value"), int | float)
              and not v.get("corrected_by")]
    if item.below is not None:
        hit = [v for v in values if v < item.below]
    else:
        hit = [v for v in values if v > item.above]
    return bool(hit), f"{len(values)} waarde(n) {item.parameter} bij de SEH" + (f", o.a. {hit[-1]:g}" if hit else "")


def _eta(item, snap, context):
    arrival = context.get("arrival_s")
    eta = ((snap.position or {}).get("eta") or {}).get(context.get("seh_id", "seh-umcu"))
    if arrival is None or not eta:
        return False, "geen ETA" if arrival is not None else "route komt niet bij de SEH"
    left = arrival - snap.t
    if left <= 0:
        return False, "al aangekomen"
    error = abs(eta["seconds"] - left) / left * 100
    detail = f"ETA {eta['seconds']:.0f} s, werkelijk {left:.0f} s, afwijking {error:.1f} %"
    context.setdefault("eta_measured", {})[id(item)] = (error <= item.tolerance_pct, detail)
    return error <= item.tolerance_pct, detail


def _no_loss(item, snap, context):
    seh, log = snap.seh.get(item.rit), snap.entries.get(item.rit)
    if seh is None or log is None:
        return False, "SEH heeft de rit niet" if log is not None else "invoerlog niet te lezen"
    at_tablet = {e["entry_id"] for e in log}
    at_seh = entry_ids_in(seh["form"])
    lost = at_tablet - set(at_seh)
    doubled = [i for i, n in at_seh.items() if n > 1] + [i for i in at_seh if i not in at_tablet]
    return not lost and not doubled, f"{len(at_tablet)} invoer, {len(lost)} verloren, {len(doubled)} dubbel"


def _proposal(item, snap, context):
    proposals = snap.proposals.get(item.rit) or []
    kinds = [p.get("which") or p.get("kind") for p in proposals]
    return item.which in kinds, "voorstellen: " + (", ".join(str(k) for k in kinds) or "geen")


def _tablet_feedback(item, snap, context):
    edge = _rit(snap, item.rit)
    count = len((edge or {}).get("feedback") or [])
    return count > 0, f"{count} terugkoppeling(en)"


CHECKS = {"seh_has_form": _seh_has_form, "message_state": _message_state, "banner": _banner, "alarm": _alarm,
          "device": _device, "broker": _broker, "seh_vital": _seh_vital, "eta": _eta, "no_loss": _no_loss,
          "proposal": _proposal, "tablet_feedback": _tablet_feedback}


@dataclass
class Verdict:
    item: Any
    name: str
    deadline: float
    met: bool | None = None  # None: still open
    at: float | None = None
    detail: str = ""

    def observe(self, snap: Snapshot, context: dict) -> None:
        """Update from one snapshot (only while open, and only from ``after`` on)."""
        if self.met is not None or snap.t < self.item.after:
            return
        answer, self.detail = check(self.item, snap, context)
        if getattr(self.item, "absent", False):
            if answer:
                self.met, self.at = False, snap.t
            elif snap.t >= self.deadline:
                self.met, self.at = True, snap.t
            return
        if self.item.what == "eta":  # measured once, at the first snapshot that has an ETA
            if "geen ETA" not in self.detail:
                self.met, self.at = answer, snap.t
            elif snap.t > self.deadline:
                self.met = False
            return
        if answer:
            self.met, self.at = True, snap.t
        elif snap.t > self.deadline:
            self.met = False

    def close(self) -> None:
        """The run ended: whatever is still open was not seen in time."""
        if self.met is None:
            self.met = bool(getattr(self.item, "absent", False))

    @property
    def needs(self) -> set[str]:
        return NEEDS.get(self.item.what, set())


# What a snapshot must hold for each kind of expectation (the runner asks only for that).
NEEDS = {"seh_has_form": {"seh"}, "seh_vital": {"seh"}, "no_loss": {"seh", "entries"}, "banner": {"header"},
         "eta": {"position"}, "proposal": {"proposals"}}
