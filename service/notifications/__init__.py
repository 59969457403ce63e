"""Notifications: a transactional outbox, a delivery worker, channel adapters, templates."""

from service.notifications.outbox import InvalidNotification, enqueue
from service.notifications.quiet_hours import AgreedWindow, earliest_send_time
from service.notifications.schemas import Recipient

__all__ = ["AgreedWindow", "InvalidNotification", "Recipient", "earliest_send_time", "enqueue"]
