"""API surroundings: offline OpenAPI docs, value lists (shipped and configured), the schema
migration from the walking skeleton, and the tablet page."""

from __future__ import annotations

import json
import re

import pytest

from edge.config import ConfigError, load_edge_settings
from edge.store.db import Store
from edge.store.rit_store import EDGE_MIGRATIONS, EdgeStore
from edge.form.valuelists import DEFAULT_LISTS, load_value_lists
from tests.harness.form_api import api, form_api, sign_in  # noqa: F401 (api is a fixture)


def test_openapi_docs_are_served_without_external_assets(api):
    page = api.client.get("/api/docs")
    assert page.status_code == 200
    assert "/api/v1/rits/{rit_id}/entries" in page.text and "NewMedicationEntry" in page.text
    external = re.findall(r'(?:src|href)="(https?:[^"]*)"', page.text)
    assert external == []
    spec = api.client.get("/api/openapi.json").json()
    examples = spec["components"]["schemas"]["NewMedicationEntry"]["examples"]
    assert examples[0] == {"kind": "medication", "data": {"drug": "fentanyl", "dose": 50, "unit": "ug", "route": "iv"}}
    for path in ("/api/v1/rits/{rit_id}/overdracht", "/api/v1/rits/{rit_id}/cancel", "/api/v1/rits/{rit_id}/destination",
                 "/api/v1/rits/{rit_id}/entries/{entry_id}/correct", "/api/v1/rits/{rit_id}/times",
                 "/api/v1/rits/{rit_id}/overdracht/missing", "/api/v1/rits/{rit_id}/audit"):
        assert path in spec["paths"], path


def test_value_lists_ship_dutch_defaults(api):
    lists = api.get("/api/v1/valuelists")
    for name in ("accident_types", "breathing_findings", "skin_findings", "intoxications", "medications",
                 "procedures", "legal_measures", "treatment_limits"):
        assert len(lists[name]) >= 5, name
    fentanyl = next(m for m in lists["medications"] if m["code"] == "fentanyl")
    assert (fentanyl["standard_dose"], fentanyl["unit"]) == (50, "ug")


def test_value_list_file_replaces_a_list(tmp_path):
    path = tmp_path / "lijsten.toml"
    path.write_text('[[medications]]\ncode = "morfine"\nlabel = "morfine"\nstandard_dose = 2.5\nunit = "mg"\n'
                    'max_single_dose = 5\nroutes = ["iv"]\n')
    api = form_api(tmp_path, value_lists_file=path)
    try:
        assert [m["code"] for m in api.get("/api/v1/valuelists")["medications"]] == ["morfine"]
        assert api.get("/api/v1/valuelists")["procedures"] == DEFAULT_LISTS["procedures"]
        rit = api.new_rit()
        detail = api.entry(rit, "medication", {"drug": "fentanyl", "dose": 50, "unit": "ug", "route": "iv"},
                           status=422).json()["detail"][0]
        assert detail["loc"] == ["body", "data", "drug"] and detail["type"] == "value_list"
        api.entry(rit, "medication", {"drug": "morfine", "dose": 7.5, "unit": "mg", "route": "iv"}, status=422)
        api.entry(rit, "medication", {"drug": "morfine", "dose": 7.5, "unit": "mg", "route": "iv"}, confirm=True)
    finally:
        api.close()


@pytest.mark.parametrize(("content", "message"), [
    ('[[bestaat_niet]]\ncode = "x"\nlabel = "x"\n', "unknown list 'bestaat_niet'"),
    ('[[sex]]\ncode = "M"\n', "needs code and label"),
    ('[[medications]]\ncode = "x"\nlabel = "x"\n', "lacks"),
    ('[[medications]]\ncode = "x"\nlabel = "x"\nstandard_dose = 1\nunit = "mg"\nmax_single_dose = 1\n'
     'routes = ["oor"]\n', "unknown route(s) oor"),
    ("niet = [toml", "not valid"),
])
def test_bad_value_list_file_is_one_clear_config_error(tmp_path, content, message):
    path = tmp_path / "lijsten.toml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_value_lists(path)
    with pytest.raises(ConfigError):
        load_value_lists(tmp_path / "ontbreekt.json")


def test_walking_skeleton_database_is_migrated(tmp_path):
    path = tmp_path / "old.db"
    old = Store(path, EDGE_MIGRATIONS[:1])
    form = {"rit_id": "r1", "vehicle_id": "ambu-01", "created_at": "2025-01-01T10:00:00.000Z",
            "melding": {"urgency": "A2"}, "destination_seh": "seh-umcu", "vitals": {}}
    old.db.execute("INSERT INTO rits VALUES ('r1', 'ambu-01', 'A2', 'seh-umcu', 'aangekondigd', ?, ?, ?, 'x')",
                   [form["created_at"], form["created_at"], json.dumps(form)])
    old.db.execute("INSERT INTO entries VALUES ('e1', 'r1', 1, 'vital', ?, '2025-01-01T10:01:00.000Z',"
                   " '2025-01-01T10:01:00.000Z', 'crew', 'device:monitor')",
                   [json.dumps({"code": 150456, "label": "SpO2", "value": 97.0, "unit": "%"})])
    old.db.conn.commit()
    old.close()

    store = EdgeStore(path)
    try:
        migrated = store.rit("r1")
        assert migrated["form"] == store.rebuild_form("r1")
        assert migrated["form"]["melding"]["urgency"] == "A2" and migrated["form"]["destination_seh"] == "seh-umcu"
        assert migrated["form"]["status"] == "vooraankondiging"
        assert migrated["form"]["vitals"]["e1"]["value"] == 97.0
    finally:
        store.close()


def test_tablet_page_lists_rits(api):
    api.new_rit(urgency="B")
    sign_in(api.client, "J. de Vries")  # shift sign-in
    page = api.client.get("/")
    assert page.status_code == 200
    assert "<b>B</b>&nbsp;· nog geen patiëntgegevens · SEH UMC Utrecht · nog niet aangekondigd · <b>actief</b> · bijgewerkt zojuist" in page.text


def test_unknown_rit_is_404_everywhere(api):
    for path in ("/api/v1/rits/nope", "/api/v1/rits/nope/entries", "/api/v1/rits/nope/audit",
                 "/api/v1/rits/nope/overdracht/missing"):
        assert api.client.get(path).status_code == 404, path
    for path, body in (("/api/v1/rits/nope/vitals", {"heart_rate": 80}), ("/api/v1/rits/nope/announce", None),
                       ("/api/v1/rits/nope/entries", {"kind": "remark", "data": {"text": "x"}}),
                       ("/api/v1/rits/nope/entries/e/correct", {"withdraw": True, "reason": "x"})):
        assert api.client.post(path, json=body).status_code == 404, path


def test_settings_defaults():
    settings = load_edge_settings(None)
    assert settings.retention_hours == 24 and settings.value_lists_file is None
