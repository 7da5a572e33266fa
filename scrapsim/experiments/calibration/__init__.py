"""experiments/calibration"""
