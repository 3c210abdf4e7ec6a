"""Arbitrage tests."""
