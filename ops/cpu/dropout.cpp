// dropout and drop_path (stochastic depth), seeded.
