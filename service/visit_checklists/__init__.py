"""Checklists in the service: published versions, pinning, answers, state per visit."""
