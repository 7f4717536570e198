// CPU kernels for ops/index.cpp: gather, scatter, index_select, index_add, one_hot.
