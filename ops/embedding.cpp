// embedding lookup with padding_idx.
