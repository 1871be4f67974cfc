// A terminal progress bar for long work (training epochs, data generation), and the number and
// duration formatting it uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iostream>
#include <string>

namespace tinyrec::cli {

// "MM:SS" under an hour, "H:MM:SS" from one hour on; "?" for a negative or non-finite input.
std::string format_duration(double seconds);
// An integer with thousands separators: 12345 -> "12,345".
std::string format_count(uint64_t n);

// Shows   label  42% [########............] 4,200/10,000 00:12<00:17 loss 0.5321
// On a terminal the line is redrawn in place ('\r') at most every kRedrawInterval seconds; the
// state where done reaches total is always drawn. On anything else (a file, a pipe, CI, a
// string stream) there are no redraws: one plain line each time progress crosses another tenth,
// and the final line from finish(). Call finish() when the work is done: it draws the final line
// with the elapsed time and ends it with '\n'. With total == 0 (unknown) the bar shows only the
// count and the elapsed time.
class ProgressBar {
 public:
  // Seconds since any fixed origin; the default is std::chrono::steady_clock.
  using Clock = std::function<double()>;
  static constexpr double kRedrawInterval = 0.1;
  static constexpr int kBarWidth = 20;

  // Redraws in place only if `os` is std::cerr, std::clog or std::cout and that stream is a
  // terminal (and TERM is not "dumb"); lines are then cut to the terminal's width.
  ProgressBar(std::string label, std::size_t total, std::ostream& os = std::cerr);
  // For tests and callers that know better: forces terminal or plain-line mode and a clock.
  ProgressBar(std::string label, std::size_t total, std::ostream& os, bool terminal, Clock clock);
  // Ends an unfinished in-place line so later output starts on a fresh line.
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // `suffix` is free text shown after the counts, e.g. "loss 0.5321 | 12,345 samples/s".
  // Calls after finish() are ignored.
  void update(std::size_t done, const std::string& suffix = "");
  // Draws the final line for the last value passed to update() (so work stopped early shows
  // where it stopped) with the total elapsed time, and a newline. Later calls do nothing.
  void finish(const std::string& suffix = "");

  // The line as it would be drawn now (no '\r', no newline).
  std::string line(std::size_t done, const std::string& suffix, bool final) const;

 private:
  void draw(std::size_t done, const std::string& suffix, bool final);

  std::string label_;
  std::size_t total_;
  std::ostream& os_;
  bool terminal_;
  std::size_t columns_ = 0;  // terminal width when known; lines are cut to fit
  Clock clock_;
  double start_;
  double last_draw_ = 0;
  bool drawn_ = false;      // anything drawn yet
  bool line_open_ = false;  // an in-place line waits for its newline
  bool finished_ = false;
  std::size_t last_done_ = 0;
  int last_tenth_ = 0;  // plain-line mode: the last tenth a line was printed for
};

}  // namespace tinyrec::cli
