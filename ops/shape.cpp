// Shape ops that copy: cat, stack, split, chunk, pad, flip, roll, repeat, tril/triu.
