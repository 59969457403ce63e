"""Operations: request ids, JSON logs, Prometheus metrics."""
