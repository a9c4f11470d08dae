"""Every entry kind the tablet can record appears on the SEH's rit page, in words (no raw
code, UCUM unit or ISO time): the kinds are enumerated from the domain, each recorded with
its own documented example through the tablet's service."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates

from edge.form.entries import CLIENT_KINDS
from seh import render
from tests.harness.form_api import api  # noqa: F401 (api is a fixture)
from tests.harness.raw_text import raw_words
from web.view_model import register_filters

ROOT = Path(__file__).resolve().parents[1]
# Kinds written by their own screens or steps rather than as a plain entry.
ONLY_THROUGH = {"time": {"which": "ter_plaatse", "at": "2026-12-02T12:00:00Z"},
                "vital": {"parameter": "heart_rate", "value": 88}}


def seh_env():
    templates = Jinja2Templates(directory=[ROOT / "seh" / "templates", ROOT / "web" / "templates"])
    register_filters(templates.env, {"seh-umcu": "SEH UMC Utrecht"})
    return templates.env


def test_every_client_kind_has_a_section_on_the_seh_page(api):  # noqa: F811
    rit_id = api.new_rit()
    for kind, model in CLIENT_KINDS.items():
        example = ONLY_THROUGH.get(kind) or model.model_config["json_schema_extra"]["examples"][0]
        api.entry(rit_id, kind, example, confirm=True)
    form = api.form(rit_id)
    html = "".join(render.form_sections(seh_env(), form, rit_id, None))
    missing = [kind for kind in CLIENT_KINDS if f'data-kind="{kind}"' not in html]
    assert missing == [], f"entry kinds missing on the SEH page: {missing}"
    assert "onleesbaar" not in html
    import re
    text = re.sub(r"<[^>]+>", " ", html)
    assert raw_words(text) == []
