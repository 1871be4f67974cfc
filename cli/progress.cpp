// The progress bar: in-place redraws on a terminal, sparse plain lines everywhere else.
#include "cli/progress.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <sys/ioctl.h>
#include <unistd.h>

namespace tinyrec::cli {
namespace {

double steady_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

bool is_terminal(const std::ostream& os) {
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::strcmp(term, "dumb") == 0) return false;
  if (&os == &std::cerr || &os == &std::clog) return isatty(STDERR_FILENO) == 1;
  if (&os == &std::cout) return isatty(STDOUT_FILENO) == 1;
  return false;
}

// Width of the terminal behind `os`, or 0 when unknown.
std::size_t terminal_columns(const std::ostream& os) {
  const int fd = &os == &std::cout ? STDOUT_FILENO : STDERR_FILENO;
  winsize ws{};
  if (ioctl(fd, TIOCGWINSZ, &ws) == 0) return ws.ws_col;
  return 0;
}

// Cuts `s` to at most `columns` characters (UTF-8 code points).
void truncate_to(std::string& s, std::size_t columns) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (seen++ == columns) {
      s.resize(i);
      return;
    }
  }
}

std::string two_digits(long v) {
  return (v < 10 ? "0" : "") + std::to_string(v);
}

}  // namespace

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = static_cast<long>(seconds);
  const long h = s / 3600, m = (s / 60) % 60, sec = s % 60;
  if (h > 0) return std::to_string(h) + ":" + two_digits(m) + ":" + two_digits(sec);
  return two_digits(m) + ":" + two_digits(sec);
}

std::string format_count(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

ProgressBar::ProgressBar(std::string label, std::size_t total, std::ostream& os)
    : ProgressBar(std::move(label), total, os, is_terminal(os), steady_seconds) {
  if (terminal_) columns_ = terminal_columns(os);
}

ProgressBar::ProgressBar(std::string label, std::size_t total, std::ostream& os, bool terminal,
                         Clock clock)
    : label_(std::move(label)),
      total_(total),
      os_(os),
      terminal_(terminal),
      clock_(std::move(clock)),
      start_(clock_()) {}

ProgressBar::~ProgressBar() {
  if (line_open_) os_ << '\n' << std::flush;
}

std::string ProgressBar::line(std::size_t done, const std::string& suffix, bool final) const {
  const double elapsed = clock_() - start_;
  std::string out = label_;
  if (total_ > 0) {
    // Integer arithmetic: in doubles 57 / 100 * 100 is 56.99999... and would print as 56%.
    // (Overflow would need a total above 10^17.)
    const std::size_t d = std::min(done, total_);
    const int pct = static_cast<int>(d * 100 / total_);
    const int filled = static_cast<int>(d * kBarWidth / total_);
    std::string p = std::to_string(pct);
    out += " " + std::string(3 - std::min<std::size_t>(3, p.size()), ' ') + p + "% [" +
           std::string(filled, '#') + std::string(kBarWidth - filled, '.') + "] " +
           format_count(done) + "/" + format_count(total_) + " ";
    if (final) {
      out += format_duration(elapsed);
    } else {
      const double eta =
          done == 0 ? -1.0 : elapsed * static_cast<double>(total_ - std::min(done, total_)) / done;
      out += format_duration(elapsed) + "<" + format_duration(eta);
    }
  } else {
    out += " " + format_count(done) + " " + format_duration(elapsed);
  }
  if (!suffix.empty()) out += " " + suffix;
  return out;
}

void ProgressBar::draw(std::size_t done, const std::string& suffix, bool final) {
  if (terminal_) {
    // "\x1b[K" clears what a longer previous line left behind.
    // A line wider than the terminal would wrap, and '\r' would then redraw only its last row.
    std::string text = line(done, suffix, final);
    if (columns_ > 1) truncate_to(text, columns_ - 1);
    os_ << '\r' << text << "\x1b[K";
    line_open_ = !final;
    if (final) os_ << '\n';
  } else {
    os_ << line(done, suffix, final) << '\n';
  }
  os_ << std::flush;
  drawn_ = true;
  last_draw_ = clock_();
}

void ProgressBar::update(std::size_t done, const std::string& suffix) {
  if (finished_) return;
  last_done_ = done;
  const bool complete = total_ > 0 && done >= total_;
  if (terminal_) {
    if (!drawn_ || complete || clock_() - last_draw_ >= kRedrawInterval) draw(done, suffix, false);
    return;
  }
  if (total_ == 0 || complete) return;  // the final line comes from finish()
  const int tenth = static_cast<int>(done * 10 / total_);
  if (tenth > last_tenth_) {
    last_tenth_ = tenth;
    draw(done, suffix, false);
  }
}

void ProgressBar::finish(const std::string& suffix) {
  if (finished_) return;
  finished_ = true;
  draw(last_done_, suffix, true);
}

}  // namespace tinyrec::cli
