// being written (seqconv)
