"""Timings of predictors, training and scoring on this machine (`predbench bench NAME`)."""
