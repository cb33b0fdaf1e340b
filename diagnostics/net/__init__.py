"""Network I/O: the SSRF guard, one observed HTTP exchange, TLS facts. The only outbound I/O."""
