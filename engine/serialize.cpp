// safetensors save/load.
