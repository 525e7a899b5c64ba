"""Forge: turn a plan into pull requests and keep them current (renovate-style)."""
