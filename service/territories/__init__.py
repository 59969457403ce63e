"""Territories: service areas and their time zones."""
