// Running the `tinyrec` program from a test: its exit status and everything it printed.
#pragma once

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

// AddressSanitizer reserves terabytes of address space at start, so a program built with it cannot
// run under `ulimit -v` at all: run_limited's checks are for the ordinary builds.
#if defined(__SANITIZE_ADDRESS__)
#define TINYREC_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TINYREC_TEST_ASAN 1
#endif
#endif

namespace tinyrec_test {

#ifdef TINYREC_TEST_ASAN
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif

struct CliRun {
  int status;
  std::string output;  // stdout and stderr together
};

// A shell command's status (128 + the signal's number when a signal ended it, as the shell says)
// and output.
inline CliRun run_shell(const std::string& command) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status), out};
}

inline CliRun run(const std::string& args) {
  return run_shell(std::string(TINYREC_CLI) + " " + args);
}

// `run` under `ulimit -v KB`, a memory limit the program meets as std::bad_alloc; OpenBLAS on one
// thread, since its per-thread buffers would count against the limit on a machine of many cores.
inline CliRun run_limited(long kb, const std::string& args) {
  return run_shell("ulimit -v " + std::to_string(kb) + " && OPENBLAS_NUM_THREADS=1 exec " +
                   std::string(TINYREC_CLI) + " " + args);
}

// A path under the system temp folder, removed if it exists.
inline std::filesystem::path scratch(const std::string& name) {
  std::filesystem::path p = std::filesystem::temp_directory_path() / ("tinyrec_cli_test_" + name);
  std::filesystem::remove_all(p);
  return p;
}

// The lines of a program's output, without their line ends.
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

}  // namespace tinyrec_test
