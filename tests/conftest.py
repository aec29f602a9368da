"""Shared by every test: pytester for the plugin tests."""

pytest_plugins = ["pytester"]
