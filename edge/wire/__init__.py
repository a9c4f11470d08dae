"""The contract shared with the SEH, pure: what goes over MQTT and how to check it.

Topics, the envelope, receipts and the UTC time format (contract), canonical JSON and
RFC 7396 merge patches (canonical), and the form hash over the canonical form
(form_hash). The SEH imports this wing and edge.form, and nothing else of the tablet's
domain.
"""
