"""Runnable example projects: two shops (FastAPI and Django) and the launcher that tours them."""
