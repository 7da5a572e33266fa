"""Exploratory modelling: policies × uncertainty scenarios (explore), scenario discovery
(discover: PRIM and CART) and robust policy comparison (robust)."""
