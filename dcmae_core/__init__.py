"""DCMAE core library: NTU skeleton I/O, preprocessing, datasets, the DCMAE model, training and evaluation.

Never imports Qt or the app (a test enforces it).
"""

__version__ = "0.1.0"
