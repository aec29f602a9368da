"""flowwright's reference flow server: a real multi-agent server with deterministic agents."""
