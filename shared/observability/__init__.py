"""What an operator watches: Prometheus metrics and the outbox's health, read by /metrics and `meetings doctor`."""
