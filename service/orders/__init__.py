"""Work orders: lifecycle, numbering, the back-office API."""
