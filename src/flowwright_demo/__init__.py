"""flowwright's reference flow server: a real multi-agent server with deterministic agents."""

__all__: list[str] = []  # run it with `python -m flowwright_demo`; nothing to import
