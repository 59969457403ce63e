"""The overdue board: its API, quality figures (KPIs) and the /board page with its session."""
