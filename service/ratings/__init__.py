"""Customer ratings of a visit and the follow-ups a poor rating opens."""
