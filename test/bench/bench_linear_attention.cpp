// being written (linattn)
