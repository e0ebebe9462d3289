"""Widgets every screen shares."""
