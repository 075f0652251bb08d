"""convrec: a conversational recommender for cold-start users (the command-line entry point)."""

__version__ = "0.1.0"
