"""Tests of sunlit.kernel."""
