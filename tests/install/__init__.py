"""The installed package, outside the repository."""
