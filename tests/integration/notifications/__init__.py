"""Notification integration tests."""
