"""Tests of the REST API through the real server."""
