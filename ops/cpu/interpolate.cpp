// interpolate (nearest, bilinear, bicubic), pixel_shuffle / pixel_unshuffle.
