"""Test rig: real mosquitto, real ptys, real ritlink processes on free loopback ports."""
