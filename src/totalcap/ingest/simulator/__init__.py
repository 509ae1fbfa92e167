"""The device simulator (``totalcap simulate``): virtual data loggers speaking HJ 212."""
