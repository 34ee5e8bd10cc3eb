"""Mechanisms shared by all domains; knows no domain."""
