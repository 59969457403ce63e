"""Escalations of SLA clocks to the territory's roles, and their acknowledgement."""
