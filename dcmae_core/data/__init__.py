"""Data: NTU .skeleton I/O, preprocessing, dataset cache, splits, the synthetic corpus."""
