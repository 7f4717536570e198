// being written (vq)
