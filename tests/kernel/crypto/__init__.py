"""Tests of sunlit.kernel.crypto (no database needed)."""
