"""Staff web pages (the dispatch console)."""
