"""Widgets: they read the state and emit intents; no torch, no dcmae_core."""
