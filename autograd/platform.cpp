#include "autograd/platform.hpp"

#include <cblas.h>

#include <cstring>
#include <fstream>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define TINYREC_X86 1
#endif

namespace tinyrec {

namespace {

std::string trim(std::string s) {
  const size_t b = s.find_first_not_of(' ');
  const size_t e = s.find_last_not_of(' ');
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::string cpu_name() {
#ifdef TINYREC_X86
  unsigned int r[4];
  std::string brand;
  if (__get_cpuid(0x80000000u, &r[0], &r[1], &r[2], &r[3]) && r[0] >= 0x80000004u) {
    for (unsigned int leaf = 0x80000002u; leaf <= 0x80000004u; ++leaf) {
      __get_cpuid(leaf, &r[0], &r[1], &r[2], &r[3]);
      brand.append(reinterpret_cast<const char*>(r), sizeof r);
    }
    brand = trim(brand.c_str());  // the string is NUL-padded
  }
  if (__get_cpuid(1, &r[0], &r[1], &r[2], &r[3])) {
    // Family and model as Linux and lscpu count them (extended fields added).
    const unsigned base_family = (r[0] >> 8) & 0xf, base_model = (r[0] >> 4) & 0xf;
    const unsigned family = base_family == 0xf ? base_family + ((r[0] >> 20) & 0xff) : base_family;
    const unsigned model = (base_family == 0x6 || base_family == 0xf)
                               ? base_model + (((r[0] >> 16) & 0xf) << 4)
                               : base_model;
    brand += " (family " + std::to_string(family) + ", model " + std::to_string(model) + ")";
  }
  return trim(brand);
#else
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    for (const char* key : {"model name", "Model", "cpu model"})
      if (line.rfind(key, 0) == 0 && line.find(':') != std::string::npos)
        return trim(line.substr(line.find(':') + 1));
  return "unknown";
#endif
}

std::string cpu_vector_isa() {
#ifdef TINYREC_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return "AVX-512F, AVX2, FMA";
  if (__builtin_cpu_supports("avx2")) return __builtin_cpu_supports("fma") ? "AVX2, FMA" : "AVX2";
  if (__builtin_cpu_supports("avx")) return "AVX";
  if (__builtin_cpu_supports("sse4.2")) return "SSE4.2";
  return "SSE2";
#else
  return "unknown";
#endif
}

std::string build_vector_isa() {
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512CD__) && \
    defined(__AVX512DQ__) && defined(__AVX512VL__)
  return "x86-64-v4 (AVX-512F, AVX2, FMA)";
#elif defined(__AVX512F__)
  return "AVX-512F, AVX2, FMA";
#elif defined(__AVX2__) && defined(__FMA__)
  return "x86-64-v3 (AVX2, FMA)";
#elif defined(__AVX2__)
  return "AVX2";
#elif defined(__AVX__)
  return "AVX";
#elif defined(__SSE4_2__)
  return "x86-64-v2 (SSE4.2)";
#elif defined(__x86_64__)
  return "x86-64 (SSE2)";
#elif defined(__ARM_NEON)
  return "NEON";
#else
  return "generic";
#endif
}

// Quotes and backslashes escaped: the strings come from the processor and OpenBLAS.
std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out + "\"";
}

}  // namespace

Platform platform() {
  Platform p;
  p.cpu = cpu_name();
  p.cpu_isa = cpu_vector_isa();
  p.build_isa = build_vector_isa();
  p.blas_core = trim(openblas_get_corename());
  p.blas_config = trim(openblas_get_config());
  return p;
}

std::string platform_json_members() {
  const Platform p = platform();
  return "\"cpu\":" + json_string(p.cpu) + ",\"cpu_isa\":" + json_string(p.cpu_isa) +
         ",\"build_isa\":" + json_string(p.build_isa) +
         ",\"blas_core\":" + json_string(p.blas_core) +
         ",\"blas_config\":" + json_string(p.blas_config);
}

}  // namespace tinyrec
