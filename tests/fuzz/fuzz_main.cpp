// One libFuzzer program per target of fuzz_targets.hpp, chosen by TINYREC_FUZZ_TARGET at compile
// time. Given an empty corpus folder, it first fills it with the target's seed inputs.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  namespace fs = std::filesystem;
  for (int i = 1; i < *argc; ++i) {
    const std::string a = (*argv)[i];
    if (a.empty() || a[0] == '-' || !fs::is_directory(a) || !fs::is_empty(a)) continue;
    const auto seeds = tinyrec_fuzz::seed_inputs(TINYREC_FUZZ_TARGET);
    for (size_t k = 0; k < seeds.size(); ++k)
      std::ofstream(fs::path(a) / ("seed_" + std::to_string(k)), std::ios::binary) << seeds[k];
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto& target = tinyrec_fuzz::targets().at(TINYREC_FUZZ_TARGET);
  return target(data, size);
}
