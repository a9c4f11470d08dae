"""What the devices feed while the service runs.

Live vital signs with their trend buffer (vitals), alarm evaluation (alarms), the
vehicle position, geofences and ETA (position) and the GPS reader thread that turns fixes
into proposals and track points (gps_runtime). Nothing here enters the form without the
crew's tap, except a completed NIBP measurement (design.md).
"""
