// NumPy .npy reader and writer. Format reference: numpy's "NEP 1 / format.py" description: magic
// "\x93NUMPY", a version byte pair, a little-endian header length, then a Python dict literal.
#include "nn/npy.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <vector>

#include "autograd/atomic_file.hpp"

namespace tinyrec::nn {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLen = 6;
// numpy pads the preamble plus header to a multiple of 64 bytes so the data is aligned.
constexpr std::size_t kAlign = 64;

template <class T>
struct Dtype;
template <>
struct Dtype<float> {
  static constexpr char kind = 'f';
  static constexpr std::size_t size = 4;
};
template <>
struct Dtype<double> {
  static constexpr char kind = 'f';
  static constexpr std::size_t size = 8;
};
template <>
struct Dtype<int64_t> {
  static constexpr char kind = 'i';
  static constexpr std::size_t size = 8;
};

bool host_is_little_endian() {
  const uint16_t one = 1;
  unsigned char first;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

template <class T>
std::string native_descr() {
  return std::string(1, host_is_little_endian() ? '<' : '>') + Dtype<T>::kind +
         std::to_string(Dtype<T>::size);
}

std::string shape_literal(const std::vector<std::size_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error("npy file '" + path + "': " + what);
}

// The header is a Python dict literal with string keys and values that are strings, booleans or
// tuples of integers. This parser accepts exactly that subset.
struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::size_t> shape;
};

class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& path) : s_(text), path_(path) {}

  Header parse() {
    Header h;
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = parse_string();
      expect(':');
      if (key == "descr") {
        h.descr = parse_string();
        have_descr = true;
      } else if (key == "fortran_order") {
        h.fortran_order = parse_bool();
        have_order = true;
      } else if (key == "shape") {
        h.shape = parse_tuple();
        have_shape = true;
      } else {
        error("unexpected key '" + key + "' in header");
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      skip_space();
      if (peek() != '}') error("expected ',' or '}'");
    }
    if (!have_descr || !have_order || !have_shape) {
      error("header lacks one of 'descr', 'fortran_order', 'shape'");
    }
    return h;
  }

 private:
  [[noreturn]] void error(const std::string& what) {
    fail(path_, "malformed header at character " + std::to_string(pos_) + ": " + what +
                    " (header: " + s_ + ")");
  }
  void skip_space() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  char peek() { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void expect(char c) {
    skip_space();
    if (peek() != c) error(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string parse_string() {
    skip_space();
    const char quote = peek();
    if (quote != '\'' && quote != '"') error("expected a quoted string");
    const std::size_t end = s_.find(quote, pos_ + 1);
    if (end == std::string::npos) error("unterminated string");
    std::string out = s_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    return out;
  }
  bool parse_bool() {
    skip_space();
    if (s_.compare(pos_, 4, "True") == 0) {
      pos_ += 4;
      return true;
    }
    if (s_.compare(pos_, 5, "False") == 0) {
      pos_ += 5;
      return false;
    }
    error("expected True or False");
  }
  std::vector<std::size_t> parse_tuple() {
    std::vector<std::size_t> out;
    expect('(');
    while (true) {
      skip_space();
      if (peek() == ')') break;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) error("expected a dimension");
      std::size_t v = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        const std::size_t digit = static_cast<std::size_t>(s_[pos_] - '0');
        if (v > (std::numeric_limits<std::size_t>::max() - digit) / 10)
          error("dimension too large");
        v = v * 10 + digit;
        ++pos_;
      }
      out.push_back(v);
      skip_space();
      if (peek() == ',') {
        ++pos_;
      } else if (peek() != ')') {
        error("expected ',' or ')' in shape");
      }
    }
    ++pos_;
    return out;
  }

  const std::string& s_;
  const std::string& path_;
  std::size_t pos_ = 0;
};

// Reads the preamble and header, leaving `in` at the first data byte.
Header read_header(std::ifstream& in, const std::string& path) {
  unsigned char pre[kMagicLen + 2];
  if (!in.read(reinterpret_cast<char*>(pre), sizeof pre)) {
    fail(path, "too short to be a .npy file (fewer than 8 bytes)");
  }
  if (std::memcmp(pre, kMagic, kMagicLen) != 0) {
    fail(path, "not a .npy file (the magic string \\x93NUMPY is missing)");
  }
  const int major = pre[kMagicLen], minor = pre[kMagicLen + 1];
  std::size_t header_len = 0;
  if (major == 1) {
    unsigned char len[2];
    if (!in.read(reinterpret_cast<char*>(len), 2)) fail(path, "truncated header length");
    header_len = len[0] | (std::size_t(len[1]) << 8);
  } else if (major == 2 || major == 3) {
    unsigned char len[4];
    if (!in.read(reinterpret_cast<char*>(len), 4)) fail(path, "truncated header length");
    header_len = len[0] | (std::size_t(len[1]) << 8) | (std::size_t(len[2]) << 16) |
                 (std::size_t(len[3]) << 24);
  } else {
    fail(path, "unsupported format version " + std::to_string(major) + "." + std::to_string(minor) +
                   " (supported: 1.0, 2.0, 3.0)");
  }
  // The length comes from the file: check it against what the file holds before allocating, so a
  // corrupt length cannot ask for gigabytes (found by fuzzing).
  const std::streampos here = in.tellg();
  in.seekg(0, std::ios::end);
  const auto left = static_cast<std::size_t>(in.tellg() - here);
  in.seekg(here);
  if (header_len > left) {
    fail(path, "truncated header (expected " + std::to_string(header_len) +
                   " bytes, the file holds " + std::to_string(left) + " more)");
  }
  std::string text(header_len, '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(header_len))) {
    fail(path, "truncated header (expected " + std::to_string(header_len) + " bytes)");
  }
  return HeaderParser(text, path).parse();
}

template <class T>
void check_dtype(const std::string& descr, const std::string& path, bool* swap) {
  const std::string want = native_descr<T>();
  const bool ok_size = descr.size() == 3 && descr[1] == Dtype<T>::kind &&
                       descr.substr(2) == std::to_string(Dtype<T>::size);
  const char order = descr.empty() ? '?' : descr[0];
  if (!ok_size || (order != '<' && order != '>' && order != '=')) {
    fail(path, "dtype is '" + descr + "' but '" + want +
                   "' was requested; load it with its own dtype and convert with xt::cast");
  }
  const char native = host_is_little_endian() ? '<' : '>';
  *swap = order != '=' && order != native;
}

void byteswap(char* data, std::size_t count, std::size_t size) {
  for (std::size_t i = 0; i < count; ++i) std::reverse(data + i * size, data + (i + 1) * size);
}

}  // namespace

template <class T>
void save_npy(const std::string& path, const xt::xarray<T>& a) {
  const std::vector<std::size_t> shape(a.shape().begin(), a.shape().end());
  std::string header = "{'descr': '" + native_descr<T>() +
                       "', 'fortran_order': False, 'shape': " + shape_literal(shape) + ", }";
  // Pads with spaces and ends with '\n' so that preamble + header is a multiple of kAlign.
  auto padded = [&](std::size_t preamble) {
    const std::size_t total = preamble + header.size() + 1;
    return header + std::string((kAlign - total % kAlign) % kAlign, ' ') + '\n';
  };
  // Version 1.0 stores the header length in 2 bytes; 2.0 (4 bytes) only if it cannot fit.
  const std::string header_v1 = padded(kMagicLen + 2 + 2);
  const bool v1 = header_v1.size() <= 65535;
  header = v1 ? header_v1 : padded(kMagicLen + 2 + 4);

  write_file_atomically(path, [&](std::ostream& out) {
    out.write(kMagic, kMagicLen);
    const unsigned char version[2] = {static_cast<unsigned char>(v1 ? 1 : 2), 0};
    out.write(reinterpret_cast<const char*>(version), 2);
    const std::size_t hl = header.size();
    const unsigned char len[4] = {static_cast<unsigned char>(hl & 0xff),
                                  static_cast<unsigned char>((hl >> 8) & 0xff),
                                  static_cast<unsigned char>((hl >> 16) & 0xff),
                                  static_cast<unsigned char>((hl >> 24) & 0xff)};
    out.write(reinterpret_cast<const char*>(len), v1 ? 2 : 4);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    const auto bytes = static_cast<std::streamsize>(a.size() * sizeof(T));
    if (a.layout() == xt::layout_type::row_major) {
      out.write(reinterpret_cast<const char*>(a.data()), bytes);
    } else {
      const xt::xarray<T, xt::layout_type::row_major> c = a;
      out.write(reinterpret_cast<const char*>(c.data()), bytes);
    }
  });
}

template <class T>
xt::xarray<T> load_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open for reading");
  const Header h = read_header(in, path);
  bool swap = false;
  check_dtype<T>(h.descr, path, &swap);
  if (h.fortran_order) {
    fail(path,
         "fortran_order is True; only C-order arrays are supported (save with "
         "numpy.ascontiguousarray)");
  }
  std::size_t count = 1;
  for (std::size_t d : h.shape) {
    if (d != 0 && count > std::numeric_limits<std::size_t>::max() / sizeof(T) / d) {
      fail(path, "shape " + shape_literal(h.shape) + " is too large");
    }
    count *= d;
  }
  const std::size_t want = count * sizeof(T);
  const std::streampos data_start = in.tellg();
  in.seekg(0, std::ios::end);
  const auto have = static_cast<std::size_t>(in.tellg() - data_start);
  in.seekg(data_start);
  if (have != want) {
    fail(path, "shape " + shape_literal(h.shape) + " of '" + h.descr + "' needs " +
                   std::to_string(want) + " data bytes but the file holds " + std::to_string(have) +
                   (have < want ? " (truncated)" : " (trailing bytes)"));
  }
  auto a = xt::xarray<T>::from_shape(h.shape);
  if (want > 0 && !in.read(reinterpret_cast<char*>(a.data()), static_cast<std::streamsize>(want))) {
    fail(path, "reading the data failed");
  }
  if (swap) byteswap(reinterpret_cast<char*>(a.data()), count, sizeof(T));
  return a;
}

std::string npy_dtype(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open for reading");
  return read_header(in, path).descr;
}

template void save_npy<float>(const std::string&, const xt::xarray<float>&);
template void save_npy<double>(const std::string&, const xt::xarray<double>&);
template void save_npy<int64_t>(const std::string&, const xt::xarray<int64_t>&);
template xt::xarray<float> load_npy<float>(const std::string&);
template xt::xarray<double> load_npy<double>(const std::string&);
template xt::xarray<int64_t> load_npy<int64_t>(const std::string&);

}  // namespace tinyrec::nn
