"""Sub-commands of `python -m dcmae_core.train`, grouped by area; each module has `add_commands`."""
