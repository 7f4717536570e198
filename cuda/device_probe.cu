// Probe for a CUDA device. A machine without a driver makes cudaGetDeviceCount fail
// ("driver version is insufficient"): that reads as "no device", never as an error.
#include <cuda_runtime.h>

namespace ember::cuda {

int device_count_raw() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error so later calls start clean
    return 0;
  }
  return count;
}

}  // namespace ember::cuda
