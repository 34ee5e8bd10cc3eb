"""Sunlit (阳光交易): public resource trading platform."""

__version__ = "0.1.0"
