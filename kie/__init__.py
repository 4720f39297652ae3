"""KIE API: signatures, callback tokens, per-family adapters and the HTTP client."""
