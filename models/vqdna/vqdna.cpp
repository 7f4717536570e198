// being written (vqdna)
