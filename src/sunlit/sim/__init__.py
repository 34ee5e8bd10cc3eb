"""Simulators of outside systems (financial institutions, banks) that talk to the platform
only over the published, signed HTTP interfaces. Used by the demo and the end-to-end tests."""
