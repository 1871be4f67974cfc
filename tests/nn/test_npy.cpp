// Tests for the .npy reader and writer: round trips, the exact header numpy expects, files laid
// out byte for byte as numpy.save writes them, and clear errors on bad files.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "nn/npy.hpp"
#include "tests/test_support.hpp"

namespace fs = std::filesystem;
using tinyrec::nn::load_npy;
using tinyrec::nn::npy_dtype;
using tinyrec::nn::save_npy;
using tinyrec_test::read_bytes;

namespace {

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("tinyrec_test_npy_" + name)).string();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The preamble numpy writes for a version 1.0 file whose header is 0x76 = 118 bytes long.
const std::string kPreamble118("\x93NUMPY\x01\x00\x76\x00", 10);

// Pads a header dict the way numpy does for a 128-byte preamble + header.
std::string numpy_header(const std::string& dict) {
  return dict + std::string(117 - dict.size(), ' ') + "\n";
}

}  // namespace

TEST_CASE("npy: float32 round trip and the exact header") {
  const std::string path = temp_path("f4.npy");
  const xt::xarray<float> a = {{1.5f, -2.0f, 3.25f}, {0.0f, 1e-30f, 7.0f}};
  save_npy(path, a);

  const std::string bytes = read_bytes(path);
  // 10-byte preamble + header padded to 128, then 6 * 4 data bytes.
  REQUIRE(bytes.size() == 128 + 24);
  CHECK(bytes.substr(0, 10) == kPreamble118);
  CHECK(bytes.substr(10, 118) ==
        numpy_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"));

  const xt::xarray<float> b = load_npy<float>(path);
  CHECK(b.shape() == a.shape());
  CHECK(b == a);
  CHECK(npy_dtype(path) == "<f4");
  fs::remove(path);
}

TEST_CASE("npy: float64 and int64 round trips of several ranks") {
  const std::string path = temp_path("rt.npy");

  const xt::xarray<double> scalar = 3.141592653589793;  // rank 0: shape ()
  save_npy(path, scalar);
  CHECK(read_bytes(path).find("'shape': (), ") != std::string::npos);
  const auto s = load_npy<double>(path);
  CHECK(s.dimension() == 0);
  CHECK(s() == 3.141592653589793);

  const xt::xarray<double> vec = {1.0, -0.5, 1e300};  // rank 1: shape (3,)
  save_npy(path, vec);
  CHECK(read_bytes(path).find("'shape': (3,), ") != std::string::npos);
  CHECK(load_npy<double>(path) == vec);

  xt::xarray<int64_t> cube = xt::xarray<int64_t>::from_shape({2, 3, 4});
  for (std::size_t i = 0; i < cube.size(); ++i) {
    cube.data()[i] = (int64_t(1) << 40) * static_cast<int64_t>(i) - 5;
  }
  save_npy(path, cube);
  const auto c = load_npy<int64_t>(path);
  CHECK(c.shape() == cube.shape());
  CHECK(c == cube);
  CHECK(c(1, 2, 3) == (int64_t(1) << 40) * 23 - 5);

  const xt::xarray<float> empty = xt::xarray<float>::from_shape({0, 4});
  save_npy(path, empty);
  const auto e = load_npy<float>(path);
  CHECK(e.size() == 0);
  CHECK(e.shape() == empty.shape());
  fs::remove(path);
}

TEST_CASE("npy: reads files laid out exactly as numpy.save writes them") {
  const std::string path = temp_path("numpy.npy");
  // np.save(f, np.arange(6, dtype='<f8').reshape(2, 3))
  std::string f8 =
      kPreamble118 + numpy_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }");
  for (int i = 0; i < 6; ++i) {
    const double v = i;
    f8.append(reinterpret_cast<const char*>(&v), 8);  // this test assumes a little-endian host
  }
  write_bytes(path, f8);
  const auto a = load_npy<double>(path);
  REQUIRE(a.shape() == std::vector<std::size_t>{2, 3});
  CHECK(a(1, 2) == 5.0);
  CHECK(a(0, 1) == 1.0);

  // np.save(f, np.array([1, -2, 3], dtype='>i8')): big-endian data is byte-swapped on load.
  const std::string i8 =
      kPreamble118 + numpy_header("{'descr': '>i8', 'fortran_order': False, 'shape': (3,), }") +
      std::string("\0\0\0\0\0\0\0\x01\xff\xff\xff\xff\xff\xff\xff\xfe\0\0\0\0\0\0\0\x03", 24);
  write_bytes(path, i8);
  CHECK(load_npy<int64_t>(path) == xt::xarray<int64_t>{1, -2, 3});
  fs::remove(path);
}

TEST_CASE("npy: errors name the file and what was wrong") {
  const std::string path = temp_path("bad.npy");

  write_bytes(path, "hello, this is not numpy");
  CHECK_THROWS_WITH_AS(load_npy<float>(path), doctest::Contains("magic"), std::runtime_error);
  CHECK_THROWS_WITH_AS(load_npy<float>(path), doctest::Contains(path.c_str()), std::runtime_error);

  write_bytes(path, "\x93NU");
  CHECK_THROWS_WITH_AS(load_npy<float>(path), doctest::Contains("too short"), std::runtime_error);

  // Unsupported version 9.0.
  write_bytes(path, std::string("\x93NUMPY\x09\x00\x10\x00", 10) + std::string(16, ' '));
  CHECK_THROWS_WITH_AS(load_npy<float>(path), doctest::Contains("version 9.0"), std::runtime_error);

  // A version 2.0 header length of 4 GiB in a file of 26 bytes: refused before anything is
  // allocated (a fuzzer found the allocation).
  write_bytes(path, std::string("\x93NUMPY\x02\x00\xf0\xff\xff\xff", 12) + std::string(14, ' '));
  const std::string huge =
      "npy file '" + path +
      "': truncated header (expected 4294967280 bytes, the file holds 14 more)";
  CHECK_THROWS_WITH_AS(load_npy<float>(path), huge.c_str(), std::runtime_error);

  // A float32 file asked for as double: both dtypes appear in the message.
  save_npy(path, xt::xarray<float>{1.0f, 2.0f});
  CHECK_THROWS_WITH_AS(load_npy<double>(path), doctest::Contains("'<f4' but '<f8'"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(load_npy<int64_t>(path), doctest::Contains("'<f4' but '<i8'"),
                       std::runtime_error);

  // Truncated data: drop the last 3 bytes of an 8-byte payload.
  std::string bytes = read_bytes(path);
  write_bytes(path, bytes.substr(0, bytes.size() - 3));
  CHECK_THROWS_WITH_AS(load_npy<float>(path), doctest::Contains("needs 8 data bytes"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(load_npy<float>(path), doctest::Contains("truncated"), std::runtime_error);

  // np.save(f, np.asfortranarray(np.arange(4, dtype='<f4').reshape(2, 2)))
  write_bytes(path, kPreamble118 +
                        numpy_header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }") +
                        std::string(16, '\0'));
  CHECK_THROWS_WITH_AS(load_npy<float>(path), doctest::Contains("fortran_order is True"),
                       std::runtime_error);

  // A header dict that is cut off.
  write_bytes(path, kPreamble118 + numpy_header("{'descr': '<f4', 'fortran_order': False, "));
  CHECK_THROWS_WITH_AS(load_npy<float>(path), doctest::Contains("malformed header"),
                       std::runtime_error);

  fs::remove(path);
  CHECK_THROWS_WITH_AS(load_npy<float>(path), doctest::Contains("cannot open"), std::runtime_error);
  CHECK_THROWS_WITH_AS(
      save_npy(temp_path("no_such_dir/x.npy"), xt::xarray<float>{1.0f}),
      ("cannot write " + temp_path("no_such_dir/x.npy") + ": No such file or directory").c_str(),
      std::runtime_error);
}
