"""Running the service in a vehicle: status, systemd and certificates.

The status report behind ``ritlink status`` and ``/-/status`` (status), systemd
READY/WATCHDOG notifications (sd_notify) and the test CA and client certificates for
TLS with per-client ACLs (certs).
"""
