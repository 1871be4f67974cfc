// The one size limit: no tensor, table or data set may hold more than 2^31 values (8 GiB as
// float32, 16 GiB as int64). Sizes come from flags and files; their product is checked before
// anything that large is allocated, so a size that cannot fit is an error naming where each
// factor came from, not a std::bad_alloc (or the kernel's OOM killer) minutes later.
#pragma once

#include <cmath>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace tinyrec {

inline constexpr uint64_t kMaxValues = uint64_t(1) << 31;

struct SizeLimitError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// One factor of a size and where it came from: {"--users", 10000000}.
struct SizeFactor {
  std::string name;
  double value;
};

// Throws SizeLimitError "WHAT: --users 10000000 × --samples-per-user 100000 = 1e+12 values, more
// than the limit of 2^31 = 2147483648" when the factors' product exceeds kMaxValues. Products
// are taken in double, so they never overflow.
inline void check_size(const std::string& what, const std::vector<SizeFactor>& factors) {
  double product = 1;
  for (const auto& f : factors) product *= f.value;
  if (product <= double(kMaxValues)) return;
  std::ostringstream os;
  os << what << ": ";
  for (size_t i = 0; i < factors.size(); ++i)
    os << (i ? " × " : "") << factors[i].name << " " << std::llround(factors[i].value);
  os.precision(3);
  os << " = " << product << " values, more than the limit of 2^31 = " << kMaxValues;
  throw SizeLimitError(os.str());
}

// The memory this process can still use, in bytes, and what bounds it: the machine's physical
// memory, a container's limit (cgroup memory.max), or `ulimit -v` / `ulimit -d` less what the
// process already holds. Memory beyond it is either refused (std::bad_alloc) or, past physical
// memory, taken by the kernel's out-of-memory killer: sizes whose estimate exceeds it are refused.
struct MemoryBudget {
  double bytes = 0;
  std::string source;  // "physical memory", "ulimit -v", ...
};
MemoryBudget memory_budget();

// "28.8 GB", "512 MB": a byte count for a message.
std::string bytes_text(double bytes);

// check_size, then whether the values, `bytes_per_value` each (`per_value` says what they are),
// can fit the memory the process may use; if not, throws SizeLimitError "WHAT: --users 1000000 ×
// --samples-per-user 50 × --hist-len-max 40 = 2e+09 values, 16 bytes each (an item and a category
// id): up to 32.0 GB, more than the 25.3 GB this process may use (physical memory)". For data sets
// built from flags, before they are: past physical memory the kernel's out-of-memory killer would
// end the process without a word.
void check_size_in_memory(const std::string& what, const std::vector<SizeFactor>& factors,
                          double bytes_per_value, const std::string& per_value);

}  // namespace tinyrec
