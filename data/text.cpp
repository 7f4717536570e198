// being written (seqdata)
