"""Shared schema types, pagination and geometry helpers."""
