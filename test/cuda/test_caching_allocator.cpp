// being written (cudart)
