// Normalization: batch_norm, layer_norm, group_norm, rms_norm.
