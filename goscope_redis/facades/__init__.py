"""Thin per-provider facades. Each method builds an op and hands it to the runner."""
