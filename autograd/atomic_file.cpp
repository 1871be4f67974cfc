// Write to a temporary name, then rename: see atomic_file.hpp.
#include "autograd/atomic_file.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace tinyrec {

namespace fs = std::filesystem;

std::string temporary_path(const std::string& path) {
  return path + ".tmp";
}

void rename_into_place(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) throw std::runtime_error("cannot rename " + from + " to " + to + ": " + ec.message());
}

void write_file_atomically(const std::string& path,
                           const std::function<void(std::ostream&)>& write) {
  const std::string tmp = temporary_path(path);
  // Whatever stops the write, the partial temporary file goes; `path` was never touched.
  struct RemoveUnlessDone {
    const std::string& tmp;
    bool done = false;
    ~RemoveUnlessDone() {
      std::error_code ec;
      if (!done) fs::remove(tmp, ec);
    }
  } cleanup{tmp};
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      const int err = errno;
      cleanup.done = true;  // nothing of ours to remove (it may be someone's folder)
      throw std::runtime_error("cannot write " + path + ": " +
                               (err ? std::strerror(err) : "cannot open " + tmp));
    }
    write(out);
    out.close();
    if (!out) throw std::runtime_error("cannot write " + path + ": writing " + tmp + " failed");
  }
  rename_into_place(tmp, path);
  cleanup.done = true;
}

void write_text_atomically(const std::string& path, std::string_view text) {
  write_file_atomically(path, [text](std::ostream& out) {
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  });
}

}  // namespace tinyrec
