// Sorting and scans: sort/argsort, topk, cumsum, cumprod.
