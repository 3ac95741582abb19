"""Finding the same person twice: Arabic-aware name keys, the Splink engine, the registry's review queue and merges."""
