"""``ritlink export --rit ID --fhir`` on the tablet: the same bundle as the mapping gives, read
from the edge database by the real command, and the export is in the access log."""

from __future__ import annotations

import json

from edge.wire.fhir import validate
from edge.wire.fhir_view import bundle_view, form_view
from tests.harness.fhir_scenarios import trauma
from tests.harness.form_api import form_api
from tests.harness.procs import run_ritlink


def test_export_writes_the_rit_as_a_fhir_bundle(tmp_path):
    api = form_api(tmp_path)
    try:
        rit = trauma(api)
        form = api.form(rit)
    finally:
        api.close()
    out = tmp_path / "rit.json"
    done = run_ritlink("export", "--rit", rit, "--fhir", "--database", str(tmp_path / "edge.db"), "--out", str(out))
    assert done.returncode == 0, done.stderr
    bundle = json.loads(out.read_text())
    validate(bundle)
    assert bundle["type"] == "document" and bundle_view(bundle) == form_view(form)
    printed = run_ritlink("export", "--rit", rit, "--fhir", "--database", str(tmp_path / "edge.db"))
    assert printed.returncode == 0 and json.loads(printed.stdout)["entry"][0]["resource"]["resourceType"] == "Composition"

    audit = run_ritlink("audit", "--rit", rit, "--database", str(tmp_path / "edge.db"), "--json")
    exports = [json.loads(line) for line in audit.stdout.splitlines() if "rit.export.fhir" in line]
    assert len(exports) == 2 and all(row["client"] == "cli" for row in exports)

    missing = run_ritlink("export", "--rit", "no-such-rit", "--fhir", "--database", str(tmp_path / "edge.db"))
    assert missing.returncode == 2 and "no rit no-such-rit" in missing.stderr
    without = run_ritlink("export", "--rit", rit, "--database", str(tmp_path / "edge.db"))
    assert without.returncode == 2 and "--fhir" in without.stderr
