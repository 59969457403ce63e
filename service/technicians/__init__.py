"""Technicians: skills, home base, territories."""
