// Write to a temporary name, then rename: see atomic_file.hpp.
#include "autograd/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <stdexcept>
#include <streambuf>
#include <vector>

namespace tinyrec {

namespace fs = std::filesystem;

namespace {

// A stream buffer over a file descriptor that remembers the first errno a write(2) or close(2)
// met. std::ofstream only says that writing failed; the system's reason ("No space left on
// device", "Read-only file system") is what a user can act on.
class FileBuf : public std::streambuf {
 public:
  explicit FileBuf(int fd) : fd_(fd), buffer_(size_t(1) << 16) {
    setp(buffer_.data(), buffer_.data() + buffer_.size());
  }
  ~FileBuf() override {
    if (fd_ >= 0) ::close(fd_);
  }
  // Flushes and closes; 0, or the first errno met since the file was opened.
  int close() {
    flush();
    if (fd_ >= 0 && ::close(fd_) != 0 && error_ == 0) error_ = errno;
    fd_ = -1;
    return error_;
  }

 protected:
  int_type overflow(int_type c) override {
    if (!flush()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override { return flush() ? 0 : -1; }

 private:
  bool flush() {
    const char* p = pbase();
    while (p < pptr() && error_ == 0) {
      const ssize_t n = ::write(fd_, p, size_t(pptr() - p));
      if (n < 0 && errno == EINTR) continue;  // a signal arrived (Ctrl-C is handled between steps)
      if (n <= 0) {
        error_ = n < 0 ? errno : EIO;
        break;
      }
      p += n;
    }
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    return error_ == 0;
  }

  int fd_;
  int error_ = 0;
  std::vector<char> buffer_;
};

}  // namespace

std::string temporary_path(const std::string& path) {
  return path + ".tmp";
}

void rename_into_place(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) throw WriteError("cannot rename " + from + " to " + to + ": " + ec.message());
}

void write_file_atomically(const std::string& path,
                           const std::function<void(std::ostream&)>& write) {
  const std::string tmp = temporary_path(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0)  // nothing of ours to remove (it may be someone's folder)
    throw WriteError("cannot write " + path + ": " + std::strerror(errno));
  // Whatever stops the write, the partial temporary file goes; `path` was never touched.
  struct RemoveUnlessDone {
    const std::string& tmp;
    bool done = false;
    ~RemoveUnlessDone() {
      std::error_code ec;
      if (!done) fs::remove(tmp, ec);
    }
  } cleanup{tmp};
  FileBuf buf(fd);
  std::ostream out(&buf);
  write(out);
  out.flush();
  if (const int err = buf.close())
    throw WriteError("cannot write " + path + ": " + std::strerror(err));
  rename_into_place(tmp, path);
  cleanup.done = true;
}

void write_text_atomically(const std::string& path, std::string_view text) {
  write_file_atomically(path, [text](std::ostream& out) {
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  });
}

}  // namespace tinyrec
