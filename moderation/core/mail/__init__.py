"""Outgoing email through an outbox table.

A service queues a message in the same transaction as the change it tells someone about
(services.queue_message), so a rolled-back change sends nothing and a committed one is never
forgotten. A sender (sender.deliver_due) delivers what is due, with retries, over the transport
the configuration chooses (transports.py). init_app wires the in-process sender (delivery.py).
"""
