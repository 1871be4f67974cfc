// Reading and writing NumPy .npy files (format 1.0) for float32, float64 and int64 arrays of any
// rank, so checkpoints and reference data can be exchanged with numpy and PyTorch.
#pragma once

#include <cstdint>
#include <string>

#include <xtensor/xarray.hpp>

namespace tinyrec::nn {

// Writes `a` as a C-order .npy file (version 1.0, header padded to a multiple of 64 bytes, as
// numpy does). Throws std::runtime_error naming the path if the file cannot be written.
template <class T>
void save_npy(const std::string& path, const xt::xarray<T>& a);

// Reads a .npy file written by save_npy or by numpy. Accepts format versions 1.0, 2.0 and 3.0,
// either byte order, and C order only. The file's dtype must be exactly T's ('<f4' for float,
// '<f8' for double, '<i8' for int64_t): there is no silent conversion, since a float64 file read
// as float32 loses precision and an int64 file read as float changes meaning. A mismatch throws
// std::runtime_error naming the file and both dtypes; convert with xt::cast after loading a file
// in its own dtype instead. Any malformed or truncated file throws std::runtime_error naming the
// file and what was wrong.
template <class T>
xt::xarray<T> load_npy(const std::string& path);

// The dtype string of a .npy file (e.g. "<f4") without reading its data.
std::string npy_dtype(const std::string& path);

extern template void save_npy<float>(const std::string&, const xt::xarray<float>&);
extern template void save_npy<double>(const std::string&, const xt::xarray<double>&);
extern template void save_npy<int64_t>(const std::string&, const xt::xarray<int64_t>&);
extern template xt::xarray<float> load_npy<float>(const std::string&);
extern template xt::xarray<double> load_npy<double>(const std::string&);
extern template xt::xarray<int64_t> load_npy<int64_t>(const std::string&);

}  // namespace tinyrec::nn
