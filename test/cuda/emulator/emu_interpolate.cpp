// cuda/interpolate.cu in the host emulator (run.sh): separable interpolation through per-axis tap
// tables (linear 2-tap upsampling 4 -> 7 rows, cubic-like 4-tap downsampling 9 -> 5 columns, taps
// clamped at the borders so one output reads an input twice) and its adjoint through the reader
// tables; against double references (forward and a scatter-form adjoint).
#include "emu.h"
#include "interpolate_emu.inc"

using namespace ember::cuda;

struct Table {
  std::vector<int64_t> index, reader_offsets, readers;
  std::vector<double> weight, reader_weights;
  int64_t count, in, out;
  Table(int64_t in_size, int64_t out_size, int64_t taps) : count(taps), in(in_size), out(out_size) {
    for (int64_t o = 0; o < out; ++o) {
      const double center = (o + 0.5) * in / out - 0.5;
      const int64_t first = static_cast<int64_t>(std::floor(center)) - (taps / 2 - 1);
      for (int64_t k = 0; k < taps; ++k) {
        index.push_back(std::clamp<int64_t>(first + k, 0, in - 1));
        weight.push_back(1.0 / taps + 0.1 * (k - (taps - 1) / 2.0) * (center - std::floor(center)));
      }
    }
    reader_offsets.push_back(0);
    for (int64_t i = 0; i < in; ++i) {
      for (int64_t o = 0; o < out; ++o)  // ascending outputs; an output reading i twice appears twice
        for (int64_t k = 0; k < taps; ++k)
          if (index[o * taps + k] == i) readers.push_back(o), reader_weights.push_back(weight[o * taps + k]);
      reader_offsets.push_back(static_cast<int64_t>(readers.size()));
    }
  }
  InterpTable device() const {
    return {index.data(), weight.data(), count, in, out, reader_offsets.data(), readers.data(), reader_weights.data()};
  }
};

template <class T> void run() {
  const int64_t P = 3;
  const Table h(4, 7, 2), w(9, 5, 4);
  const int64_t H = h.in, W = w.in, OH = h.out, OW = w.out;
  std::vector<T> x(P * H * W), out(P * OH * OW, T(-9)), g(P * OH * OW), gin(P * H * W, T(-9));
  for (size_t i = 0; i < x.size(); ++i) x[i] = T(((i * 7) % 11) * 0.5 - 2);
  for (size_t i = 0; i < g.size(); ++i) g[i] = T(((i * 5) % 13) * 0.25 - 1);
  const ScalarType type = sizeof(T) == 4 ? ScalarType::f32 : ScalarType::f64;
  interpolate_fwd(out.data(), x.data(), type, P, h.device(), w.device(), Stream{});
  interpolate_adjoint(gin.data(), g.data(), type, P, h.device(), w.device(), Stream{});
  std::vector<double> rout(P * OH * OW, 0), rgin(P * H * W, 0);
  for (int64_t p = 0; p < P; ++p)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow)
        for (int64_t i = 0; i < h.count; ++i)
          for (int64_t j = 0; j < w.count; ++j) {
            const double weight = double(T(h.weight[oh * h.count + i])) * double(T(w.weight[ow * w.count + j]));
            const int64_t at = (p * H + h.index[oh * h.count + i]) * W + w.index[ow * w.count + j];
            rout[(p * OH + oh) * OW + ow] += weight * double(x[at]);
            rgin[at] += weight * double(g[(p * OH + oh) * OW + ow]);
          }
  double e1, e2;
  const bool ok = emu::close(std::vector<double>(out.begin(), out.end()), rout, emu::tolerance<T>() * 5, 1e-3, &e1) &&
                  emu::close(std::vector<double>(gin.begin(), gin.end()), rgin, emu::tolerance<T>() * 5, 1e-3, &e2);
  char line[200];
  std::snprintf(line, sizeof line, "interpolate %s (3, 4, 9) -> (3, 7, 5), 2 x 4 taps: forward %.1e adjoint %.1e", emu::type_name<T>(), e1, e2);
  emu::check(ok, line);
}

int main() {
  setvbuf(stdout, nullptr, _IONBF, 0);
  run<float>();
  run<double>();
  return emu::finish("emu_interpolate");
}
