"""The domain on the tablet: the run form, its SQLite store, the outbox and MQTT sync, config."""
