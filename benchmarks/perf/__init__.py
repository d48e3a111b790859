"""Performance benchmarks (timings of predictors on this machine)."""
