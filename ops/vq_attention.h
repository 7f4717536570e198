// being written (vq)
#pragma once
