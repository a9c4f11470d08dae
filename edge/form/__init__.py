"""The ritformulier itself, pure: no I/O, no clock of its own, no database.

Entry kinds and their validation (entries), the fold of the entry log into the form
(model), the value lists the crew chooses from (valuelists), plausibility limits
(plausibility), the scores computed from the form (scores: NEWS2, GCS) and the lifecycle
rules (lifecycle). Everything here is a function of its arguments, so the SEH can rebuild
and check the same form from the wire.
"""
