"""SQLite on the tablet: everything that must survive a power cut.

The database helpers and numbered migrations (db), the rit store with its entry log and
write transactions (rit_store), the transactional outbox (outbox), lifecycle steps that
write entries and outbox messages in one transaction (lifecycle), the NEN 7513 access log
(audit), retention and backups, and the trend and track stores for monitor and GPS data.
"""
