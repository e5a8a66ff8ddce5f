"""Drawing maps (plots) and the interactive explorer."""
