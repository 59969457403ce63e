"""Notification unit tests."""
