// The memory a process may use: see limits.hpp.
#include "autograd/limits.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace tinyrec {

namespace {

// This process's virtual size and data segment in bytes, from /proc/self/statm (pages); 0 where
// it cannot be read.
std::pair<double, double> process_sizes() {
  std::ifstream statm("/proc/self/statm");
  double size = 0, resident = 0, shared = 0, text = 0, lib = 0, data = 0;
  if (!(statm >> size >> resident >> shared >> text >> lib >> data)) return {0, 0};
  const double page = double(sysconf(_SC_PAGESIZE));
  return {size * page, data * page};
}

}  // namespace

MemoryBudget memory_budget() {
  MemoryBudget b;
  b.bytes = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGESIZE));
  b.source = "physical memory";
  auto lower = [&b](double bytes, const char* source) {
    if (bytes < b.bytes) b.bytes = bytes < 0 ? 0 : bytes, b.source = source;
  };
  for (const char* path :
       {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    std::ifstream f(path);
    double limit = 0;
    if (f >> limit && limit > 0) lower(limit, "the container's memory limit");
  }
  const auto [virtual_size, data_size] = process_sizes();
  rlimit r{};
  if (getrlimit(RLIMIT_AS, &r) == 0 && r.rlim_cur != RLIM_INFINITY)
    lower(double(r.rlim_cur) - virtual_size, "ulimit -v");
  if (getrlimit(RLIMIT_DATA, &r) == 0 && r.rlim_cur != RLIM_INFINITY)
    lower(double(r.rlim_cur) - data_size, "ulimit -d");
  return b;
}

std::string bytes_text(double bytes) {
  char buf[32];
  if (bytes >= 1e9)
    std::snprintf(buf, sizeof buf, "%.1f GB", bytes / 1e9);
  else
    std::snprintf(buf, sizeof buf, "%.0f MB", bytes / 1e6);
  return buf;
}

void check_size_in_memory(const std::string& what, const std::vector<SizeFactor>& factors,
                          double bytes_per_value, const std::string& per_value) {
  check_size(what, factors);
  double values = 1;
  for (const auto& f : factors) values *= f.value;
  const double bytes = values * bytes_per_value;
  const MemoryBudget budget = memory_budget();
  if (bytes <= budget.bytes) return;
  std::ostringstream os;
  os << what << ": ";
  for (size_t i = 0; i < factors.size(); ++i)
    os << (i ? " × " : "") << factors[i].name << " " << std::llround(factors[i].value);
  os.precision(3);
  os << " = " << values << " values, " << bytes_per_value << " bytes each (" << per_value
     << "): up to " << bytes_text(bytes) << ", more than the " << bytes_text(budget.bytes)
     << " this process may use (" << budget.source << ")";
  throw SizeLimitError(os.str());
}

}  // namespace tinyrec
