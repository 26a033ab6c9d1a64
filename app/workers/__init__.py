"""Worker layer: the only app code (with app/core_bridge.py) that calls dcmae_core."""
