// Pooling: max/avg pool 1d/2d, adaptive avg/max pool.
