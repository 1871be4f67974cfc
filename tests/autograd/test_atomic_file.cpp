// Files written under a temporary name and renamed: an error or a crash while writing leaves the
// previous file whole. And the memory budget sizes are checked against.
#include <doctest/doctest.h>

#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "autograd/atomic_file.hpp"
#include "autograd/limits.hpp"
#include "tests/test_support.hpp"

namespace fs = std::filesystem;
using tinyrec_test::read_bytes;
using tinyrec_test::TempDir;

TEST_CASE("write_file_atomically: replaces the file whole, or leaves the previous one") {
  TempDir dir("tinyrec_atomic", "file");
  fs::create_directories(dir.path);
  const std::string path = (dir.path / "metrics.json").string();
  tinyrec::write_text_atomically(path, "first\n");
  CHECK(read_bytes(path) == "first\n");
  tinyrec::write_text_atomically(path, "second, longer\n");
  CHECK(read_bytes(path) == "second, longer\n");
  CHECK(!fs::exists(path + ".tmp"));

  // A writer that fails half-way, as a crash or a full disk would: the previous file stays, and
  // the half-written temporary file goes.
  CHECK_THROWS_WITH_AS(tinyrec::write_file_atomically(path,
                                                      [](std::ostream& out) {
                                                        out << "half of a new fi";
                                                        throw std::runtime_error("disk full");
                                                      }),
                       "disk full", std::runtime_error);
  CHECK(read_bytes(path) == "second, longer\n");
  CHECK(!fs::exists(path + ".tmp"));

  // A temporary name that cannot be opened (here a folder holds it): named, nothing touched.
  fs::create_directories(path + ".tmp/x");
  CHECK_THROWS_WITH_AS(tinyrec::write_text_atomically(path, "third\n"),
                       ("cannot write " + path + ": Is a directory").c_str(), std::runtime_error);
  CHECK(read_bytes(path) == "second, longer\n");
  CHECK(fs::is_directory(path + ".tmp/x"));  // not ours to remove

  // A folder that does not exist.
  const std::string nowhere = (dir.path / "no" / "such.json").string();
  CHECK_THROWS_WITH_AS(tinyrec::write_text_atomically(nowhere, "x"),
                       ("cannot write " + nowhere + ": No such file or directory").c_str(),
                       std::runtime_error);
}

TEST_CASE("memory_budget: the least of physical memory and ulimit -v, less what is in use") {
  const tinyrec::MemoryBudget free = tinyrec::memory_budget();
  CHECK(free.bytes > 1e8);
  CHECK(!free.source.empty());
  // With `ulimit -v` at what the process holds plus 1 GB, the budget is that gigabyte, about.
  rlimit before{};
  REQUIRE(getrlimit(RLIMIT_AS, &before) == 0);
  std::ifstream statm("/proc/self/statm");
  double pages = 0;
  REQUIRE(bool(statm >> pages));
  const double held = pages * double(sysconf(_SC_PAGESIZE));
  rlimit lower = before;
  lower.rlim_cur = rlim_t(held + 1e9);
  REQUIRE(setrlimit(RLIMIT_AS, &lower) == 0);
  const tinyrec::MemoryBudget limited = tinyrec::memory_budget();
  REQUIRE(setrlimit(RLIMIT_AS, &before) == 0);
  CHECK(limited.source == "ulimit -v");
  CHECK(limited.bytes == doctest::Approx(1e9).epsilon(0.01));
  CHECK(tinyrec::bytes_text(28.8e9) == "28.8 GB");
  CHECK(tinyrec::bytes_text(5.12e8) == "512 MB");
}
