"""The hospital side: rebuilds each rit's form from the vehicle's messages, applies every
msg_id at most once, detects gaps and asks for a resync, sends receipts, shows a board."""
