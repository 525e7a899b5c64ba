"""Upstream discovery: what repo.anaconda.com has published."""
