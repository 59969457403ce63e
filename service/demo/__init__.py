"""Demo data (created only by `naryad demo seed`)."""
