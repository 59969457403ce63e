"""Coordination: control deadlines (SLA clocks), the overdue board and quality figures."""
