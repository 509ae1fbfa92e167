"""Reference tables of the hj212 package (JSON / CSV), read with importlib.resources."""
