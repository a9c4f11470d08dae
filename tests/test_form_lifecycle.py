"""Lifecycle, corrections, not-states and idempotency through the API (in process)."""

from __future__ import annotations

import threading

import pytest

from edge.store.audit import Actor
from edge.form.entries import RemarkData
from edge.errors import DomainError
from tests.harness.form_api import api, form_api  # noqa: F401 (api is a fixture)


def _statuses(api, rit_id):
    return [(m["seh_id"], m["seq"], m["kind"], m["status"]) for m in api.store.messages(rit_id)]


def _complete(api, rit_id):
    api.post(f"/api/v1/rits/{rit_id}/vitals", {"heart_rate": 80}, 201)
    api.entry(rit_id, "diagnosis", {"text": "collaps"})
    api.entry(rit_id, "treatment_limits", {"not_state": "niet mogelijk", "text": "patiënt niet aanspreekbaar"})


# -- lifecycle --------------------------------------------------------------------------------
def test_announce_twice_is_refused(api):
    rit = api.new_rit()
    api.post(f"/api/v1/rits/{rit}/announce", None, 202)
    detail = api.post(f"/api/v1/rits/{rit}/announce", None, 409).json()["detail"][0]
    assert "al vooraangekondigd" in detail["msg"]


def test_first_change_after_announce_makes_status_update(api):
    rit = api.new_rit()
    api.post(f"/api/v1/rits/{rit}/announce", None, 202)
    assert api.form(rit)["status"] == "vooraankondiging"
    api.entry(rit, "remark", {"text": "onderweg"})
    assert api.form(rit)["status"] == "update"


def test_cancel_concept_sends_nothing_and_keeps_the_form_open(api):
    rit = api.new_rit()
    api.post(f"/api/v1/rits/{rit}/cancel", {"reason": "loos_alarm"}, 202)
    assert _statuses(api, rit) == []
    form = api.form(rit)
    assert form["status"] == "geannuleerd" and form["cancellation"]["reason"] == "loos_alarm"
    api.entry(rit, "remark", {"text": "niemand aangetroffen"})  # documenting goes on after a cancel
    api.post(f"/api/v1/rits/{rit}/cancel", {"reason": "loos_alarm"}, 409)
    api.post(f"/api/v1/rits/{rit}/announce", None, 409)
    assert api.post(f"/api/v1/rits/{rit}/cancel", {"reason": "bestaat_niet"}, 422).json()["detail"][0]["loc"] == [
        "body", "reason"]


def test_overdracht_of_an_unannounced_rit_is_one_snapshot(api):
    rit = api.new_rit()
    _complete(api, rit)
    api.post(f"/api/v1/rits/{rit}/overdracht", None, 202)
    assert _statuses(api, rit) == [("seh-umcu", 1, "snapshot", "overdracht")]
    form = api.form(rit)
    assert form["status"] == "overdracht" and form["overdracht"] == {
        "at": form["times"]["overdracht"], "seh_id": "seh-umcu", "onvolledig": False}


def test_destination_change_of_a_concept_only_changes_the_destination(api):
    rit = api.new_rit()
    api.post(f"/api/v1/rits/{rit}/destination", {"seh_id": "seh-antonius"}, 202)
    assert api.form(rit)["destination_seh"] == "seh-antonius" and api.form(rit)["status"] == "concept"
    assert _statuses(api, rit) == []


def test_destination_change_cancels_old_seh_and_opens_new_stream_in_one_step(api):
    rit = api.new_rit()
    api.post(f"/api/v1/rits/{rit}/announce", None, 202)
    for row in api.store.messages_to_send():  # the vooraankondiging went out
        api.store.freeze(row["msg_id"])
        api.store.advance(row["msg_id"], "sent")
    result = api.post(f"/api/v1/rits/{rit}/destination", {"seh_id": "seh-antonius"}, 202).json()
    assert result["cancelled_msg_id"] and result["msg_id"]
    assert _statuses(api, rit) == [("seh-umcu", 1, "snapshot", "vooraankondiging"),
                                   ("seh-umcu", 2, "patch", "geannuleerd"),
                                   ("seh-antonius", 1, "snapshot", "vooraankondiging")]
    form = api.form(rit)
    assert form["destination_seh"] == "seh-antonius" and form["status"] == "vooraankondiging"
    assert "cancellation" not in form
    log = [row["action"] for row in api.get(f"/api/v1/rits/{rit}/audit")]
    assert log.count("rit.destination") == 1  # one action, one transaction


def test_destination_change_refusals(api):
    rit = api.new_rit()
    assert api.post(f"/api/v1/rits/{rit}/destination", {"seh_id": "seh-nergens"}, 422).json()["detail"][0][
        "loc"] == ["body", "seh_id"]
    api.post(f"/api/v1/rits/{rit}/destination", {"seh_id": "seh-umcu"}, 422)
    api.post(f"/api/v1/rits/{rit}/announce", None, 202)
    api.post(f"/api/v1/rits/{rit}/destination", {"seh_id": "seh-antonius"}, 202)
    # Back to the first SEH: its cancelled stream is reopened with a fresh vooraankondiging.
    api.post(f"/api/v1/rits/{rit}/destination", {"seh_id": "seh-umcu"}, 202)
    assert api.form(rit)["destination_seh"] == "seh-umcu"
    umcu = [(m["seq"], m["kind"], m["status"]) for m in api.get(f"/api/v1/rits/{rit}")["messages"]
            if m["seh_id"] == "seh-umcu"]
    assert umcu[-1][1:] == ("snapshot", "vooraankondiging") and umcu[-1][0] == len(umcu)
    # ... but the SEH that is active now cannot be opened twice.
    refused = api.post(f"/api/v1/rits/{rit}/destination", {"seh_id": "seh-umcu"}, 422).json()["detail"][0]
    assert refused["loc"] == ["body", "seh_id"]


def test_after_overdracht_only_nagekomen(api):
    rit = api.new_rit()
    _complete(api, rit)
    remark = api.entry(rit, "remark", {"text": "eerste"}).json()["entry_ids"][0]
    api.entry(rit, "remark", {"text": "te vroeg"}, status=422, nagekomen=True)  # nagekomen only after handover
    api.post(f"/api/v1/rits/{rit}/overdracht", None, 202)
    for path, body in ((f"/api/v1/rits/{rit}/destination", {"seh_id": "seh-antonius"}),
                       (f"/api/v1/rits/{rit}/cancel", {"reason": "anders"}),
                       (f"/api/v1/rits/{rit}/overdracht", {}), (f"/api/v1/rits/{rit}/announce", None)):
        assert api.post(path, body).status_code == 409, path
    correct = f"/api/v1/rits/{rit}/entries/{remark}/correct"
    api.post(correct, {"data": {"text": "eerste (aangevuld)"}, "reason": "aanvulling"}, 409)
    new = api.post(correct, {"data": {"text": "eerste (aangevuld)"}, "reason": "aanvulling", "nagekomen": True},
                   201).json()["entry_ids"][0]
    api.post(f"/api/v1/rits/{rit}/vitals", {"heart_rate": 70}, 409)
    api.post(f"/api/v1/rits/{rit}/vitals", {"heart_rate": 70, "nagekomen": True}, 201)
    form = api.form(rit)
    assert form["remarks"][new]["nagekomen"] is True and form["status"] == "overdracht"


# -- corrections and not-states ----------------------------------------------------------------
def test_correction_rules(api):
    rit = api.new_rit()
    vital = api.post(f"/api/v1/rits/{rit}/vitals", {"spo2": 91}, 201).json()["entry_ids"][0]
    url = f"/api/v1/rits/{rit}/entries/{vital}/correct"
    api.post(url, {"data": {"parameter": "heart_rate", "value": 91}, "reason": "x"}, 422)  # same parameter only
    api.post(url, {"reason": "x"}, 422)  # neither data nor withdraw
    api.post(url, {"data": {"parameter": "spo2", "value": 150}, "reason": "x"}, 422)  # plausibility applies
    api.post(url, {"data": {"parameter": "spo2", "value": 93}, "reason": "  "}, 422)
    api.post(url, {"data": {"parameter": "spo2", "value": 93}, "reason": "afleesfout"}, 201)
    assert api.post(url, {"data": {"parameter": "spo2", "value": 94}, "reason": "nogmaals"}, 409).json()[
        "detail"][0]["type"] == "already_corrected"
    api.post(f"/api/v1/rits/{rit}/entries/onbekend/correct", {"withdraw": True, "reason": "x"}, 404)
    lifecycle = [e for e in api.store.entries(rit) if e["kind"] == "destination"][0]["entry_id"]
    api.post(f"/api/v1/rits/{rit}/entries/{lifecycle}/correct", {"withdraw": True, "reason": "x"}, 409)


def test_withdrawn_vital_no_longer_counts(api):
    rit = api.new_rit()
    ids = api.post(f"/api/v1/rits/{rit}/vitals", {"resp_rate": 30}, 201).json()["entry_ids"]
    assert api.form(rit)["scores"]["news2"]["subscores"]["resp_rate"] == 3
    api.post(f"/api/v1/rits/{rit}/entries/{ids[0]}/correct", {"withdraw": True, "reason": "andere patiënt"}, 201)
    form = api.form(rit)
    assert "news2" not in form["scores"]
    withdrawn = [i for i in form["vitals"].values() if i.get("withdrawn")]
    assert len(withdrawn) == 1 and withdrawn[0]["replaces_reason"] == "andere patiënt"
    assert form["vitals"][ids[0]]["value"] == 30  # the original stays visible
    assert [m["item"] for m in api.get(f"/api/v1/rits/{rit}/overdracht/missing")["missing"]][1] == "vitale_parameters"


def test_not_states(api):
    rit = api.new_rit()
    api.post(f"/api/v1/rits/{rit}/vitals", {"heart_rate": 80, "bp_systolic": "niet mogelijk"}, 201)
    api.post(f"/api/v1/rits/{rit}/vitals", {"bp_systolic": "vergeten"}, 422)
    api.entry(rit, "exposure", {"not_state": "niet beoordeeld"})
    api.entry(rit, "medication", {"drug": "paracetamol", "not_state": "geweigerd"})
    api.entry(rit, "gcs", {"eye": 4, "verbal": "niet mogelijk", "motor": 6})
    detail = api.entry(rit, "airway", {"status": "vrij", "not_state": "niet beoordeeld"}, status=422).json()["detail"]
    assert detail[0]["msg"].endswith("kies óf waarden óf 'niet gedaan', niet allebei")
    assert detail[0]["loc"][-1] == "data"
    form = api.form(rit)
    bp = [i for i in form["vitals"].values() if i["parameter"] == "bp_systolic"][0]
    assert bp["not_state"] == "niet mogelijk" and "value" not in bp
    assert list(form["primary_survey"]["E"].values())[0]["not_state"] == "niet beoordeeld"
    assert form["scores"]["gcs"] == {"notation": "E4M6Vx", "e": 4, "m": 6,
                                     "clinical_time": form["scores"]["gcs"]["clinical_time"]}
    assert "bp_systolic" in form["scores"]["news2"]["missing"]


# -- idempotency ----------------------------------------------------------------------------------
def test_repeated_idempotency_key_records_once(api):
    rit = api.new_rit()
    body = {"kind": "remark", "data": {"text": "dubbel getikt"}}
    first = api.post(f"/api/v1/rits/{rit}/entries", body, 201, **{"Idempotency-Key": "k-1"}).json()
    again = api.post(f"/api/v1/rits/{rit}/entries", body, 201, **{"Idempotency-Key": "k-1"}).json()
    assert first == again
    assert len(api.form(rit)["remarks"]) == 1
    other = api.post(f"/api/v1/rits/{rit}/entries", {**body, "data": {"text": "anders"}}, 422,
                     **{"Idempotency-Key": "k-1"}).json()["detail"][0]
    assert other["loc"] == ["header", "Idempotency-Key"]
    log = api.get(f"/api/v1/rits/{rit}/audit")
    assert [r["detail"] for r in log if r["action"] == "entry.add.remark"][1] == {"replay": True}


def test_idempotent_create_and_lifecycle(api):
    key = {"Idempotency-Key": "create-1"}
    body = {"destination_seh": "seh-umcu", "urgency": "B"}
    first = api.post("/api/v1/rits", body, 201, **key).json()
    assert api.post("/api/v1/rits", body, 201, **key).json() == first
    assert len(api.store.rit_ids()) == 1
    rit = first["rit_id"]
    announce = api.post(f"/api/v1/rits/{rit}/announce", None, 202, **{"Idempotency-Key": "a-1"}).json()
    assert api.post(f"/api/v1/rits/{rit}/announce", None, 202, **{"Idempotency-Key": "a-1"}).json() == announce


def test_double_tap_from_two_threads_records_once(api):
    rit = api.new_rit()
    from edge.store.rit_store import IdempotencyKey

    key = IdempotencyKey("tap-1", "same-request")
    results, errors = [], []

    def tap():
        try:
            results.append(api.service.add_entry(rit, "remark", RemarkData(text="tik"), actor=Actor(),
                                                 idempotency=key))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=tap) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not errors and len({r["entry_ids"][0] for r in results}) == 1
    assert len(api.form(rit)["remarks"]) == 1


def test_failed_transaction_leaves_no_trace_in_the_cached_form(api):
    rit = api.new_rit()
    api.entry(rit, "remark", {"text": "een"})
    before = api.get(f"/api/v1/rits/{rit}")["form_sha256"]

    def half_done(tx):
        tx.append(rit, [{"kind": "remark", "data": {"text": "weg"}, "clinical_time": "2025-01-01T00:00:00.000Z",
                         "author": "x", "source": "manual"}])
        raise DomainError("afgebroken")

    with pytest.raises(DomainError):
        api.store.transact(half_done, Actor(), "test", rit)
    assert api.get(f"/api/v1/rits/{rit}")["form_sha256"] == before
    api.entry(rit, "remark", {"text": "twee"})
    form = api.form(rit)
    assert sorted(i["text"] for i in form["remarks"].values()) == ["een", "twee"]
    assert api.store.rebuild_form(rit) == form
