"""MQTT: moving the outbox to the SEH and the SEH's answers back.

One way to make a paho client (mqtt_client), the sender that publishes each stream's
oldest unacknowledged message and applies receipts (sender), the receipt deadlines that
warn the crew (receipt_watch) and the inbox for SEH-terugkoppeling (feedback_inbox).
"""
