"""Storage backends: where analyzed articles are kept and searched."""
