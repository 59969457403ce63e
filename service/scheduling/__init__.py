"""Scheduling and dispatch: availability, slot offering, booking, changes, day plans."""
