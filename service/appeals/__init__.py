"""Customer appeals and complaints: registration, deadlines, work, answer letters, analysis."""
