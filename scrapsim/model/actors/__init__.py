"""Array populations (traders, smelters) and the regulators that inspect them."""
