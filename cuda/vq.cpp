// cuda/vq.h: unpacks the tensors for cuda/vq.cu (Note [CUDA kernel boundary]) and turns the
// kernels' "first bad index" flag into the CPU's error message (ops/vq.cpp check_index_range).
#include "cuda/vq.h"

#include "cuda/tensor_args.h"
#include "cuda/tensor_copy.h"
#include "cuda/vq_launch.h"
#include "engine/error.h"

namespace ember::cuda {

namespace {

// A device int64 set to -1 (all bits set: "no bad index"), for the kernels' atomicMin.
Tensor bad_index_flag(const Tensor& like) {
  Tensor flag = make_tensor({1}, DType::i64, like.device());
  fill_tensor(flag, -1.0);
  return flag;
}

unsigned long long* flag_pointer(const Tensor& flag) {
  return reinterpret_cast<unsigned long long*>(flag.data_ptr<int64_t>());
}

// Reads the flag back (synchronizes the stream) and raises on a bad index.
void raise_on_bad_index(const char* op, const Tensor& flag, const Tensor& indices, int64_t K) {
  const double position = read_tensor_element(flag, 0);
  if (position < 0) return;
  const auto n = static_cast<int64_t>(position);
  EMBER_FAIL("{}: index {} at position {} is outside the codebook's [0, {})", op,
             static_cast<int64_t>(read_tensor_element(indices, n)), n, K);
}

}  // namespace

void vq_nearest(const Tensor& z, const Tensor& codebook, const Tensor& indices, const Tensor& distances) {
  const int device = common_cuda_device("vq_nearest", {&z, &codebook, &indices, &distances});
  DeviceGuard guard(device);
  const int64_t N = z.size(0), K = codebook.size(0), D = z.size(1);
  const Tensor norms = make_tensor({K}, z.dtype(), z.device());
  vq_nearest_search(scalar_type(z.dtype()), N, K, D, z.raw_data(), codebook.raw_data(), norms.raw_data(),
                    indices.data_ptr<int64_t>(), distances.raw_data(), stream_of(z));
}

void vq_gather_codes(const char* op, const Tensor& codebook, const Tensor& indices, const Tensor& out) {
  const int device = common_cuda_device(op, {&codebook, &indices, &out});
  DeviceGuard guard(device);
  const Tensor flag = bad_index_flag(out);
  const int64_t K = codebook.size(0);
  vq_gather_codes(scalar_type(codebook.dtype()), indices.numel(), K, codebook.size(1), codebook.raw_data(),
                  indices.data_ptr<int64_t>(), out.raw_data(), flag_pointer(flag), stream_of(out));
  raise_on_bad_index(op, flag, indices, K);
}

void vq_code_counts(const char* op, const Tensor& indices, int64_t K, const Tensor& counts) {
  const int device = common_cuda_device(op, {&indices, &counts});
  DeviceGuard guard(device);
  const Tensor flag = bad_index_flag(counts);
  vq_count_codes(indices.numel(), K, indices.data_ptr<int64_t>(), counts.data_ptr<int64_t>(), flag_pointer(flag),
                 stream_of(counts));
  raise_on_bad_index(op, flag, indices, K);
}

}  // namespace ember::cuda
