"""SLA: the order event log, clock maths, business calendars, policies and clock persistence."""
