"""Webhook Doctor: find out why a customer's webhook endpoint is broken and what to tell them."""

__version__ = "0.1.0"
