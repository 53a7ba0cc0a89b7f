"""labeling."""
