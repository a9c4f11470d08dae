"""Form scenarios end to end with real processes: tablet -> broker -> SEH(s).

- Nictiz "Ambulanceoverdracht SEH minimaal": an unidentified patient (only sex) announced,
  then cancelled; the identity, known later, is linked to the same rit.
- A medical A2 run: announced to one SEH, cancelled (patient refuses transport), then
  re-destined to another SEH and handed over there.
- A forced ("onvolledig") handover: the missing items are listed, and the SEH receives the
  onvolledig flag and the list in the form.
"""

from __future__ import annotations

from edge.form.model import missing_for_overdracht
from tests.harness.procs import run_ritlink
from tests.harness.waiting import wait_until

HEADERS = {"X-Ritlink-User": "a.peters", "X-Ritlink-Role": "ambulanceverpleegkundige"}


def _post(edge, path: str, body: dict | None = None, status: int = 201) -> dict:
    response = edge.post(path, body, headers=HEADERS)
    assert response.status_code == status, response.text
    return response.json()


def _entry(edge, rit_id: str, kind: str, data: dict, **extra) -> str:
    return _post(edge, f"/api/v1/rits/{rit_id}/entries", {"kind": kind, "data": data, **extra})["entry_ids"][0]


def _edge_view(edge, rit_id: str) -> dict:
    return edge.get(f"/api/v1/rits/{rit_id}", headers=HEADERS).json()


def _all_delivered(edge, rit_id: str) -> bool:
    messages = _edge_view(edge, rit_id)["messages"]
    return bool(messages) and all(m["state"] == "delivered" for m in messages)


def _seh_rit(seh, rit_id: str) -> dict | None:
    response = seh.get(f"/api/v1/rits/{rit_id}")
    return response.json() if response.status_code == 200 else None


def _seh_status(seh, rit_id: str, status: str) -> dict | None:
    rit = _seh_rit(seh, rit_id)
    return rit if rit and rit["status"] == status else None


def test_nictiz_minimal_unidentified_patient_announced_then_cancelled(edge_process, seh_process):
    seh = seh_process()
    edge = edge_process()
    rit_id = _post(edge, "/api/v1/rits", {"destination_seh": "seh-umcu", "urgency": "A1"})["rit_id"]
    _entry(edge, rit_id, "patient", {"sex": "F"})
    _post(edge, f"/api/v1/rits/{rit_id}/announce", status=202)
    announced = wait_until(lambda: _seh_status(seh, rit_id, "vooraankondiging"), 15, what="vooraankondiging at SEH")
    assert announced["form"]["patient"] == {"identified": False, "sex": "F"}

    _post(edge, f"/api/v1/rits/{rit_id}/cancel", {"reason": "niet_vervoerd"}, 202)
    cancelled = wait_until(lambda: _seh_status(seh, rit_id, "geannuleerd"), 15, what="geannuleerd at SEH")
    wait_until(lambda: _all_delivered(edge, rit_id), 15, what="both messages delivered")
    view = _edge_view(edge, rit_id)
    assert [(m["seq"], m["status"]) for m in view["messages"]] == [(1, "vooraankondiging"), (2, "geannuleerd")]
    assert cancelled["form_sha256"] == view["form_sha256"] and cancelled["form"] == view["form"]
    assert cancelled["form"]["status"] == "geannuleerd"
    assert cancelled["form"]["cancellation"]["reason"] == "niet_vervoerd"
    assert "name" not in cancelled["form"]["patient"] and "bsn" not in cancelled["form"]["patient"]

    # Identity known later: it links to the same rit, the unidentified entry stays in the history.
    _entry(edge, rit_id, "patient", {"name": "M. Jansen", "date_of_birth": "1961-07-14", "bsn": "111222333"})
    form = _edge_view(edge, rit_id)["form"]
    assert form["rit_id"] == rit_id
    assert form["patient"] == {"identified": True, "sex": "F", "name": "M. Jansen", "date_of_birth": "1961-07-14",
                               "bsn": "111222333"}
    history = sorted(form["history"]["patient"].values(), key=lambda item: item["position"])
    assert [p.get("sex") for p in history] == ["F", None]


def test_medical_a2_cancelled_then_redestined_to_another_seh(tmp_path, edge_process, seh_process):
    umcu = seh_process("umcu")
    antonius = seh_process("antonius", seh_id="seh-antonius")
    edge = edge_process()
    rits = "/api/v1/rits"
    rit_id = _post(edge, rits, {"destination_seh": "seh-umcu", "urgency": "A2", "reason": "pijn op de borst"})["rit_id"]
    url = f"{rits}/{rit_id}"
    _entry(edge, rit_id, "patient", {"name": "H. de Boer", "date_of_birth": "1952-11-03", "sex": "M",
                                     "bsn": "111222333"})
    _entry(edge, rit_id, "sample", {"signs_symptoms": "drukkende pijn op de borst sinds 40 min",
                                    "medication_history": "metoprolol", "past_history": "hypertensie"})
    _post(edge, f"{url}/vitals", {"resp_rate": 18, "spo2": 96, "heart_rate": 96, "bp_systolic": 150,
                                  "bp_diastolic": 90, "temperature": 37.1})
    _entry(edge, rit_id, "disability", {"acvpu": "A"})
    _entry(edge, rit_id, "breathing", {"oxygen_device": "kamerlucht"})
    _entry(edge, rit_id, "gcs", {"eye": 4, "verbal": 5, "motor": 6})
    _entry(edge, rit_id, "procedure", {"procedure": "ecg12", "result": "gelukt", "text": "ST-elevatie II, III, aVF"})
    _entry(edge, rit_id, "medication", {"drug": "acetylsalicylzuur", "dose": 160, "unit": "mg", "route": "po"})
    _entry(edge, rit_id, "diagnosis", {"text": "verdenking STEMI (inferior)"})
    _post(edge, f"{url}/announce", status=202)
    wait_until(lambda: _seh_status(umcu, rit_id, "vooraankondiging"), 15, what="announced at UMCU")

    _post(edge, f"{url}/cancel", {"reason": "vervoer_weigering", "text": "patiënt weigert vervoer"}, 202)
    # The patient changes his mind; the PCI centre is the better destination now.
    redestined = _post(edge, f"{url}/destination", {"seh_id": "seh-antonius"}, 202)
    assert "cancelled_msg_id" not in redestined  # the cancel already closed the UMCU stream
    _entry(edge, rit_id, "treatment_limits", {"status": "geen"})
    _post(edge, f"{url}/vitals", {"resp_rate": 22, "spo2": 94, "heart_rate": 104, "bp_systolic": 145,
                                  "bp_diastolic": 88})
    assert _post(edge, f"{url}/overdracht", {}, 202)["onvolledig"] is False

    at_antonius = wait_until(lambda: _seh_status(antonius, rit_id, "overdracht"), 15, what="overdracht at Antonius")
    at_umcu = wait_until(lambda: _seh_status(umcu, rit_id, "geannuleerd"), 15, what="geannuleerd at UMCU")
    wait_until(lambda: _all_delivered(edge, rit_id), 15, what="all messages delivered")
    view = _edge_view(edge, rit_id)
    streams = {}
    for m in view["messages"]:
        streams.setdefault(m["seh_id"], []).append(m["status"])
    assert streams["seh-umcu"][0] == "vooraankondiging" and streams["seh-umcu"][-1] == "geannuleerd"
    assert streams["seh-antonius"][0] == "vooraankondiging" and streams["seh-antonius"][-1] == "overdracht"
    assert at_antonius["form_sha256"] == view["form_sha256"] and at_antonius["form"] == view["form"]
    assert at_umcu["form"]["status"] == "geannuleerd" and at_umcu["form"]["destination_seh"] == "seh-umcu"
    assert at_umcu["form"]["cancellation"]["reason"] == "vervoer_weigering"

    form = view["form"]
    assert form["destination_seh"] == "seh-antonius" and form["status"] == "overdracht"
    assert [e["event"] for e in sorted(form["history"]["lifecycle"].values(), key=lambda i: i["position"])] == [
        "announce", "cancel", "announce", "overdracht"]
    # Latest values: RR 22 -> 2, SpO2 94 -> 1, air -> 0, SBP 145 -> 0, pulse 104 -> 1, A -> 0, 37.1 -> 0
    news2 = form["scores"]["news2"]
    assert news2["subscores"] == {"resp_rate": 2, "spo2": 1, "oxygen": 0, "bp_systolic": 0, "pulse": 1,
                                  "consciousness": 0, "temperature": 0}
    assert (news2["total"], news2["risk"]) == (4, "laag")
    assert form["scores"]["gcs"]["total"] == 15

    # The access log lists every action, and `ritlink audit` prints it.
    actions = [row["action"] for row in edge.get(f"{url}/audit", headers=HEADERS).json()]
    for expected in ("rit.create", "entry.add.patient", "vitals.add", "rit.announce", "rit.cancel",
                     "rit.destination", "rit.overdracht", "rit.read"):
        assert expected in actions
    printed = run_ritlink("audit", "--rit", rit_id, "--database", str(tmp_path / "edge.db"))
    assert printed.returncode == 0, printed.stderr
    lines = printed.stdout.splitlines()
    assert len(lines) >= len(actions) and all("a.peters (ambulanceverpleegkundige)" in line for line in lines)
    assert "H. de Boer" not in printed.stdout and "111222333" not in printed.stdout  # no patient data


def test_forced_onvolledig_handover_is_listed_and_reaches_the_seh(edge_process, seh_process):
    seh = seh_process()
    edge = edge_process()
    rit_id = _post(edge, "/api/v1/rits", {"destination_seh": "seh-umcu", "urgency": "A1"})["rit_id"]
    url = f"/api/v1/rits/{rit_id}"
    _post(edge, f"{url}/vitals", {"heart_rate": 60, "resp_rate": 4, "confirm": True})
    missing = edge.get(f"{url}/overdracht/missing", headers=HEADERS).json()["missing"]
    assert [m["item"] for m in missing] == ["werkdiagnose", "behandelgrenzen"]

    refused = _post(edge, f"{url}/overdracht", {}, 409)["detail"][0]
    assert refused["ctx"]["missing"] == ["werkdiagnose", "behandelgrenzen"]
    assert "werkdiagnose ontbreekt" in refused["msg"]
    forced = _post(edge, f"{url}/overdracht", {"onvolledig": True}, 202)
    assert forced["onvolledig"] is True

    at_seh = wait_until(lambda: _seh_status(seh, rit_id, "overdracht"), 15, what="overdracht at SEH")
    assert at_seh["form"]["overdracht"]["onvolledig"] is True
    assert at_seh["form"]["overdracht"]["missing"] == ["werkdiagnose", "behandelgrenzen"]
    assert at_seh["form_sha256"] == _edge_view(edge, rit_id)["form_sha256"]
    assert missing_for_overdracht(at_seh["form"]) == missing  # the SEH can show the same list
