"""The tablet UI and JSON API (FastAPI + Jinja2 + htmx). Talks to edge/ only; never imports
serial or MQTT code (tested)."""
