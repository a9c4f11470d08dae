"""SEH-status end to end (issue 19, acceptance 1-3 and the hostile payloads): a real broker, a
real ``ritlink seh`` and ``ritlink serve``, the SEH's status page and the tablet's destination
choice in chromium, through the UI only."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from edge.wire import seh_status as ws
from simulators.processes import AUTH_HEADERS, run_ritlink
from tests.harness.mqtt import TestClient
from tests.harness.ui_browser import BOARD, TABLET, chromium, new_rit, open_tab, sign_in  # noqa: F401
from tests.harness.waiting import wait_until

# They measure how soon a status reaches the tablet: make test runs them alone (serial pass).
pytestmark = pytest.mark.serial

ANTONIUS = "seh-antonius"
LINE = f"#seh-status-{ANTONIUS}"


def _status_of(edge) -> dict:
    return next(c for c in edge.get("/api/v1/seh-status").json() if c["id"] == ANTONIUS)


def test_seh_stop_reaches_the_destination_choice_and_a_choice_against_it_needs_a_reason(
        chromium, broker, edge_process, seh_process, tmp_path):  # noqa: F811
    added = run_ritlink("seh-users", "add", "m.verpleeg", "--database", str(tmp_path / "seh.db"),
                        input="een-lang-wachtwoord\n")
    assert added.returncode == 0, added.stderr
    seh = seh_process(seh_id=ANTONIUS)  # the fixture's display name stays; the id decides
    edge = edge_process()
    tablet = chromium.new_page(viewport=TABLET)
    nurse = chromium.new_page(viewport=BOARD)  # a person: signs in with name and password
    nurse.goto(f"{seh.base_url}/status")
    nurse.wait_for_url("**/aanmelden?terug=/status")
    nurse.fill("input[name=naam]", "m.verpleeg")
    nurse.fill("input[name=wachtwoord]", "een-lang-wachtwoord")
    nurse.click("button:has-text('Aanmelden')")
    nurse.wait_for_url(f"{seh.base_url}/status")
    sign_in(tablet, edge.base_url)
    expect(tablet.locator(LINE)).to_contain_text("onbekend")  # nothing heard yet: never "open"
    rit_id = new_rit(tablet)
    open_tab(tablet, "Overdracht")
    expect(tablet.locator(LINE)).to_contain_text("geen status ontvangen")

    # The nurse: an SEH-stop without a reason, and an impossible count, are refused on the page.
    nurse.check("input[name=state][value=seh-stop]")
    nurse.click("button:has-text('Status opslaan')")
    expect(nurse.locator("#meldingen")).to_contain_text("reden klopt niet")
    nurse.fill("input[name=reason]", "CT defect")
    nurse.fill("input[name=beds]", "9999")
    nurse.click("button:has-text('Status opslaan')")
    expect(nurse.locator("#meldingen .fout[data-veld=beds]")).to_contain_text("bedden klopt niet")
    expect(tablet.locator(LINE)).to_contain_text("geen status ontvangen")  # nothing refused was sent
    nurse.fill("input[name=beds]", "0")
    nurse.fill("input[name=reason]", "CT defect")
    started = time.monotonic()
    nurse.click("button:has-text('Status opslaan')")
    expect(tablet.locator(LINE)).to_contain_text("SEH-stop", timeout=2000)
    took = time.monotonic() - started
    print(f"SEH-stop on the tablet's destination choice after {took * 1000:.0f} ms")
    assert took < 2.0
    expect(tablet.locator(LINE)).to_contain_text("CT defect")
    expect(tablet.locator(LINE)).to_contain_text("vrij: bedden 0")
    expect(nurse.locator("#huidig")).to_contain_text("SEH-stop")
    expect(nurse.locator("#huidig")).to_contain_text("door m.verpleeg")

    # Choosing it without a reason is refused, visibly; with one it is recorded in the form.
    form = tablet.locator("form[data-form=bestemming]")
    form.locator(f"input[name=seh_id][value={ANTONIUS}]").check()
    form.locator("input[name=reason]").fill("dichtstbijzijnde PCI")
    form.locator("button:has-text('Bestemming wijzigen')").click()
    expect(tablet.locator("#fout-bestemming-seh_stop_reason")).to_contain_text("SEH-stop")
    form = tablet.locator("form[data-form=bestemming]")
    form.locator(f"input[name=seh_id][value={ANTONIUS}]").check()
    form.locator("input[name=reason]").fill("dichtstbijzijnde PCI")
    form.locator("input[name=seh_stop_reason]").fill("STEMI, PCI alleen hier")
    form.locator("button:has-text('Bestemming wijzigen')").click()
    tablet.wait_for_selector(".bericht:has-text('Opgeslagen')")
    tablet.click("a:has-text('Vooraankondigen')")
    tablet.click("button:has-text('Ja, vooraankondigen')")
    tablet.wait_for_selector(".bericht:has-text('Opgeslagen')")
    wait_until(lambda: seh.get(f"/api/v1/rits/{rit_id}").status_code == 200, 10, what="the vooraankondiging")
    nurse.goto(f"{seh.base_url}/rits/{rit_id}")
    expect(nurse.locator("[data-seh-stop]")).to_contain_text("gekozen ondanks SEH-stop: STEMI, PCI alleen hier")

    # The tablet is off while the SEH changes its status; it sees the change once it is back.
    edge.stop()
    nurse.goto(f"{seh.base_url}/status")
    nurse.check("input[name=state][value=druk]")
    nurse.fill("input[name=reason]", "wachtkamer vol")
    nurse.fill("input[name=beds]", "2")
    nurse.click("button:has-text('Status opslaan')")
    expect(nurse.locator("#huidig")).to_contain_text("druk")
    edge.start()
    sign_in(tablet, edge.base_url)
    expect(tablet.locator(LINE)).to_contain_text("druk", timeout=15_000)
    expect(tablet.locator(LINE)).to_contain_text("zojuist")


def test_source_adapter_staleness_and_hostile_payloads(chromium, broker, edge_process, seh_process,  # noqa: F811
                                                        tmp_path):
    source = tmp_path / "lpz.json"
    source.write_text(json.dumps({"state": "open", "counts": {"beds": 5}}))
    interval = 1.0
    seh = seh_process(seh_id=ANTONIUS, status_source=str(source),
                      status_poll_s=interval)
    stale_s = 12.0  # the tablet's stale age, short for the test (default 15 min)
    edge = edge_process(seh_status_stale_minutes=stale_s / 60)
    wait_until(lambda: _status_of(edge)["state"] == "open", 10, what="the source's first status on the tablet")

    # A change in the source is on the tablet within one interval (plus the broker's hop), each
    # of several changes (one sample could land just after a read by luck).
    took = []
    for state, text in (("druk", '{"state": "druk", "counts": {"beds": 1}}'),
                        ("open", "state,beds\nopen,3\n"), ("druk", "state,reason\ndruk,griep\n"),
                        ("seh-stop", "state,reason,beds\nseh-stop,stroomstoring,0\n")):
        source.write_text(text)
        started = time.monotonic()
        wait_until(lambda: _status_of(edge)["state"] == state, interval * 4, interval=0.02,
                   what=f"the source's change to {state}")
        took.append(time.monotonic() - started)
    print(f"source change on the tablet after {', '.join(f'{t * 1000:.0f}' for t in took)} ms "
          f"(interval {interval * 1000:.0f} ms)")
    assert max(took) <= interval + 0.8  # the read, a durable write and the hop to the tablet

    # A broken source: logged without content, shown on the status page, the last status stays.
    source.write_text("state,geheim\nopen,patientnaam\n")
    nurse = chromium.new_page(viewport=BOARD, extra_http_headers=AUTH_HEADERS)
    time.sleep(interval * 2)
    nurse.goto(f"{seh.base_url}/status")
    expect(nurse.locator("#bronfout")).to_contain_text("Bron onleesbaar")
    expect(nurse.locator("#huidig")).to_contain_text("SEH-stop")
    last_good = _status_of(edge)
    assert last_good["reason"] == "stroomstoring"
    assert "patientnaam" not in seh.log_text() and "geheim" not in seh.log_text()

    # Hostile payloads on the status topic: refused, counted, the edge keeps running and keeps
    # the last good status.
    before = edge.get("/-/health").json()["dead_letters"]
    good = {"schema": ws.SCHEMA, "seh_id": ANTONIUS, "state": "open", "updated_at": ws.utc_iso(datetime.now(UTC))}
    attacker = TestClient(broker.port)
    hostile = [
        json.dumps({**good, "seh_id": "seh-umcu"}).encode(),          # forged seh_id vs topic
        b'{"pad": "' + b"x" * 300_000 + b'"}',                          # huge
        json.dumps(good).replace('"open"', "NaN").encode(),              # NaN
        b'{"a":' * 200 + b"1" + b"}" * 200,                             # nested
        json.dumps({**good, "state": "dicht"}).encode(),                # unknown state
        json.dumps({**good, "counts": {"beds": 2**70}}).encode(),       # huge integer
    ]
    for raw in hostile:
        attacker.publish(ws.status_topic(ANTONIUS), raw)
    wait_until(lambda: edge.get("/-/health").json()["dead_letters"] >= before + len(hostile), 10,
               what="every hostile status counted")
    health = edge.get("/-/health").json()
    assert health["status"] == "ok" and health["mqtt_thread"] == "alive"
    assert _status_of(edge)["updated_at"] == last_good["updated_at"]

    # The source stays broken, so nothing confirms the SEH-stop: past the stale age the tablet
    # shows "onbekend", never the last state and never "open".
    tablet = chromium.new_page(viewport=TABLET)
    sign_in(tablet, edge.base_url)
    expect(tablet.locator(LINE)).to_contain_text("onbekend", timeout=(stale_s + 5) * 1000)
    expect(tablet.locator(LINE)).to_contain_text("verouderd")
    shown = _status_of(edge)
    assert shown["state"] == "onbekend" and shown["stale"] and shown["reason"] == ""
    attacker.close()
