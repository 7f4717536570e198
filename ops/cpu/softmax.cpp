// softmax and log_softmax along a dim.
