"""Visit execution on site: en route, arrival, checklist, notes, equipment, outcomes."""
