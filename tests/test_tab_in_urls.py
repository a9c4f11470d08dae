"""A save's answer names the screen it returns to; the tab comes from the query string, so a
hostile one (an unknown name, a CR/LF meant to forge a header) must not reach a header."""

from __future__ import annotations

import re

import pytest


@pytest.mark.parametrize("hx", [False, True])
def test_a_hostile_tab_is_answered_with_the_abcde_screen(edge_process, hx):
    edge = edge_process()
    client = edge.signed_in("J. de Vries")
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)
    made = client.post("/ritten", data={"csrf": token, "urgency": "A2", "destination_seh": "seh-umcu"})
    rit_id = made.headers["location"].split("/rits/")[1].split("?")[0]
    headers = {"HX-Request": "true"} if hx else {}
    for tab in ("abcde\r\nX-Forged: 1", "x" * 5000, "../../aanmelden"):
        answer = client.post(f"/rits/{rit_id}/actief", params={"tab": tab, "formulier": "actief"},
                             data={"csrf": token}, headers=headers, follow_redirects=False)
        assert answer.status_code == (200 if hx else 303), (tab[:20], answer.status_code)
        where = answer.headers["HX-Push-Url" if hx else "location"]
        assert where.startswith(f"/rits/{rit_id}?tab=abcde"), where[:80]
        assert "x-forged" not in answer.headers
    assert edge.get("/-/health").status_code == 200
