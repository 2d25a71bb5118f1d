// Ellora differential-test and timing harness.
//
// A harness file includes this header and the code under test, then describes one test
// case: how to make inputs of a given size, which call is the kernel, which values are
// the outputs. Ellora builds it twice (original and candidate), runs both on the same
// sizes and seeds, compares the outputs with a tolerance, and times the kernel.
//
//   ./harness --size N --seed S --mode check --output out.bin   writes outputs (doubles)
//   ./harness --size N --seed S --mode time --repeats R         prints "ellora-time: <s>"
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#ifdef ELLORA_WITH_KOKKOS
#include <Kokkos_Core.hpp>
#endif
#ifdef ELLORA_WITH_MPI
#include <mpi.h>
#endif

namespace ellora {

// Rank 0 alone writes outputs and times; every rank runs the kernel (MPI builds).
inline int rank() {
#ifdef ELLORA_WITH_MPI
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
#else
  return 0;
#endif
}

inline void barrier() {
#ifdef ELLORA_WITH_MPI
  MPI_Barrier(MPI_COMM_WORLD);
#endif
}

class Case {
 public:
  Case(std::size_t size, std::uint64_t seed, bool timing, int repeats)
      : size_(size), rng_(seed), state_(seed ^ 0x9E3779B97F4A7C15ULL), timing_(timing),
        repeats_(repeats) {}

  std::size_t size() const { return size_; }
  std::mt19937_64& rng() { return rng_; }

  // Inputs come from splitmix64 (a few ns a value): at timing sizes the inputs of every run
  // are generated afresh, and std::uniform_*_distribution over mt19937_64 cost more than
  // many kernels. rng() stays a std engine for harnesses that shuffle or sample themselves.
  double uniform() { return (next() >> 11) * 0x1.0p-53; }  // in [0, 1)

  template <class T>
  std::vector<T> random_reals(std::size_t n, T lo = T(-1), T hi = T(1)) {
    std::vector<T> values(n);
    const double low = static_cast<double>(lo), span = static_cast<double>(hi) - low;
    for (auto& v : values) v = static_cast<T>(low + span * uniform());
    return values;
  }

  template <class T>
  std::vector<T> random_ints(std::size_t n, T lo, T hi) {
    std::vector<T> values(n);
    const unsigned long long span =
        static_cast<unsigned long long>(static_cast<long long>(hi) - static_cast<long long>(lo)) + 1ULL;
    for (auto& v : values) {
      const unsigned long long draw = span == 0 ? next()  // the whole 64-bit range
          : static_cast<unsigned long long>((static_cast<unsigned __int128>(next()) * span) >> 64);
      v = static_cast<T>(static_cast<long long>(lo) + static_cast<long long>(draw));
    }
    return values;
  }

  // Runs the kernel once (check mode) or 1 warm-up + `repeats` timed calls (time mode).
  // Not inlined, so profilers can count what runs inside the kernel calls alone.
  template <class F>
  __attribute__((noinline)) void kernel(F&& call) {
    if (!timing_) {
      call();
      return;
    }
    call();
    std::vector<double> seconds;
    for (int r = 0; r < repeats_; ++r) {
      barrier();
      auto start = std::chrono::steady_clock::now();
      call();
      barrier();
      auto stop = std::chrono::steady_clock::now();
      seconds.push_back(std::chrono::duration<double>(stop - start).count());
    }
    std::sort(seconds.begin(), seconds.end());
    median_seconds_ = seconds[seconds.size() / 2];
  }

  template <class T>
  void output(const std::vector<T>& values) {
    for (const auto& v : values) outputs_.push_back(static_cast<double>(v));
  }
  template <class T>
  void output(const T* values, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) outputs_.push_back(static_cast<double>(values[i]));
  }
  void output_scalar(double value) { outputs_.push_back(value); }

  const std::vector<double>& outputs() const { return outputs_; }
  double median_seconds() const { return median_seconds_; }

 private:
  std::uint64_t next() {  // splitmix64
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  std::size_t size_;
  std::mt19937_64 rng_;
  std::uint64_t state_;
  bool timing_;
  int repeats_;
  double median_seconds_ = 0.0;
  std::vector<double> outputs_;
};

inline int fail(const char* message) {
  std::fprintf(stderr, "ellora-harness: %s\n", message);
  return 2;
}

inline int run_case(int argc, char** argv, const std::function<void(Case&)>& body) {
  std::size_t size = 1000;
  std::uint64_t seed = 1;
  int repeats = 5;
  bool timing = false;
  std::string output_path;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    bool has_value = i + 1 < argc;
    if (arg == "--size" && has_value) size = std::strtoull(argv[++i], nullptr, 10);
    else if (arg == "--seed" && has_value) seed = std::strtoull(argv[++i], nullptr, 10);
    else if (arg == "--repeats" && has_value) repeats = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--mode" && has_value) timing = std::string(argv[++i]) == "time";
    else if (arg == "--output" && has_value) output_path = argv[++i];
  }
  Case test_case(size, seed, timing, repeats);
  body(test_case);
  if (rank() != 0) return 0;
  if (timing) {
    std::printf("ellora-time: %.9e\n", test_case.median_seconds());
    return 0;
  }
  if (output_path.empty()) return fail("check mode needs --output PATH");
  std::FILE* out = std::fopen(output_path.c_str(), "wb");
  if (!out) return fail("cannot open the output file");
  const auto& values = test_case.outputs();
  std::fwrite(values.data(), sizeof(double), values.size(), out);
  std::fclose(out);
  std::printf("ellora-outputs: %zu\n", values.size());
  return 0;
}

inline int run(int argc, char** argv, const std::function<void(Case&)>& body) {
#ifdef ELLORA_WITH_MPI
  MPI_Init(&argc, &argv);
#endif
  int status = 0;
  {
#ifdef ELLORA_WITH_KOKKOS
    Kokkos::ScopeGuard guard(argc, argv);
#endif
    status = run_case(argc, argv, body);
  }
#ifdef ELLORA_WITH_MPI
  MPI_Finalize();
#endif
  return status;
}

}  // namespace ellora
