// What the tutorial programs share: checks that print their outcome and count failures, and the
// ending that turns the count into the exit status CTest reads. A tutorial is a test; a check
// that fails must fail the build's test run, not only print a word.
#pragma once

#include <cmath>
#include <cstdio>
#include <exception>
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
