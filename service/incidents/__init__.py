"""Incidents a visit's outcome raises (a safety exit), who is told, and their acknowledgement."""
