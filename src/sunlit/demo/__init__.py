"""Demo data and the one-command demo (`sunlit demo run`)."""
