"""Passwords, tokens, two-factor codes, guards and rate limits for the staff API."""
