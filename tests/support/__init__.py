"""Shared test support: real local servers that several test areas start (PostgreSQL, ...)."""
