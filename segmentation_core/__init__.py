"""Customer segmentation core: validation, K-Means training with automatic k, profiles, names,
honest confidence and a signed model store. No web imports here."""
