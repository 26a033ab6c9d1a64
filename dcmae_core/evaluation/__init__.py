"""Evaluation: scoring a finetuned checkpoint (full accuracy and the missing-joint protocol), the paper-table
experiments and the end-to-end demo built on it, their report figures, and model cost and speed profiling.
"""
