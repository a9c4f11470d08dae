"""Device readers: serial / NMEA / monitor protocols.

Framing and parsing are pure functions over bytes; the I/O loops around them are thin.
This package never imports edge/, web/ or seh/ (tested).
"""
