"""experiments/sensitivity"""
