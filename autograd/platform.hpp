// What a measurement ran on: the processor, the instruction set this build of the library targets,
// and the BLAS kernel OpenBLAS picked at run time. Every benchmark prints these beside its figures,
// since a speed ratio means little without them (an AVX-512 build on a Zen 4 is not an AVX2 build,
// and OpenBLAS chooses its sgemm kernel for the processor, not for the build).
#pragma once

#include <string>

namespace tinyrec {

struct Platform {
  std::string cpu;          // the processor's brand string, with its family and model numbers
  std::string cpu_isa;      // the widest vector extensions the processor offers, e.g. "AVX-512F"
  std::string build_isa;    // what the compiler was allowed to use, e.g. "x86-64-v3 (AVX2, FMA)"
  std::string blas_core;    // OpenBLAS's kernel for this processor, e.g. "Zen" or "Cooperlake"
  std::string blas_config;  // OpenBLAS's build: version, DYNAMIC_ARCH, thread limit
};

Platform platform();

// The Platform as JSON members without braces ("cpu":"...","build_isa":"...",...), to splice
// into a benchmark's JSON line.
std::string platform_json_members();

}  // namespace tinyrec
