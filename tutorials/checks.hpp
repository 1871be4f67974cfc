// What the tutorial programs share: checks that print their outcome and count failures, and the
// ending that turns the count into the exit status CTest reads. A tutorial is a test; a check
// that fails must fail the build's test run, not only print a word.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <stdexcept>
#include <string>

namespace tinyrec::tutorial {

inline int failures = 0;

// Prints one comparison; a failure when |got − want| > tol (a NaN fails too).
inline void check(const std::string& what, double got, double want, double tol) {
  const bool ok = std::abs(got - want) <= tol;
  std::printf("  %-50s %12.6g   expected %12.6g   %s\n", what.c_str(), got, want,
              ok ? "ok" : "MISMATCH");
  if (!ok) ++failures;
}

inline void check_true(const std::string& what, bool ok) {
  std::printf("  %-50s %s\n", what.c_str(), ok ? "ok" : "FAILED");
  if (!ok) ++failures;
}

// A claim that a number (often one model's lead over another) is above a bound: prints what it
// measured beside the bound, so a reader sees how much room the claim has on this run.
inline void check_above(const std::string& what, double got, double bound) {
  const bool ok = got > bound;
  std::printf("  %-50s %+9.4f > %-7g %s\n", what.c_str(), got, bound, ok ? "ok" : "FAILED");
  if (!ok) ++failures;
}

// The seeds of a tutorial's training runs: the data, the initial weights, the batch order.
struct Seeds {
  uint64_t data = 1, model = 1, order = 1;
};

// The tutorial's own seeds, or those of TINYREC_SEEDS="DATA MODEL ORDER": a claim is checked on
// one seeded run, and rerunning it on other seeds is how the margins quoted beside it were
// measured, e.g. TINYREC_SEEDS="2 1 1" build/tutorial_04_dien.
inline Seeds seeds(Seeds own) {
  const char* env = std::getenv("TINYREC_SEEDS");
  if (env == nullptr) return own;
  std::istringstream in(env);
  Seeds s;
  if (!(in >> s.data >> s.model >> s.order))
    throw std::invalid_argument(std::string("TINYREC_SEEDS must be three seeds, data, model and "
                                            "batch order, e.g. \"2 1 1\"; got \"") +
                                env + "\"");
  std::printf("seeds: data %llu, model %llu, batch order %llu (TINYREC_SEEDS)\n",
              static_cast<unsigned long long>(s.data), static_cast<unsigned long long>(s.model),
              static_cast<unsigned long long>(s.order));
  return s;
}

// Runs the tutorial's steps and returns the exit status: 1 when a step threw or a check failed.
template <class Steps>
int run(Steps&& steps) {
  try {
    steps();
  } catch (const std::exception& e) {
    std::printf("\nerror: %s\n", e.what());
    return 1;
  }
  if (failures) {
    std::printf("\n%d check(s) FAILED\n", failures);
    return 1;
  }
  std::printf("\nall checks passed\n");
  return 0;
}

}  // namespace tinyrec::tutorial
