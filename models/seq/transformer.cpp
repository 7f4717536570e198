// being written (seqmodels)
