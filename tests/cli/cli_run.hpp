// Running the `tinyrec` program from a test: its exit status and everything it printed.
#pragma once

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

namespace tinyrec_test {

struct CliRun {
  int status;
  std::string output;  // stdout and stderr together
};

inline CliRun run(const std::string& args) {
  const std::string cmd = std::string(TINYREC_CLI) + " " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WEXITSTATUS(status), out};
}

// A path under the system temp folder, removed if it exists.
inline std::filesystem::path scratch(const std::string& name) {
  std::filesystem::path p = std::filesystem::temp_directory_path() / ("tinyrec_cli_test_" + name);
  std::filesystem::remove_all(p);
  return p;
}

}  // namespace tinyrec_test
