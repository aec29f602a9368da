"""flowwright's benchmarks (``./dev bench``); a package so that the test suite can run them."""
