"""Hand-run performance benchmarks (not part of pytest): `python -m bench.run_all --help`."""
