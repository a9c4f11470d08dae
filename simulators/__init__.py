"""Hardware stand-ins for tests and testers: pty serial devices, a broker runner, link faults."""
