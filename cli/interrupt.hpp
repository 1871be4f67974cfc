// Ctrl-C (SIGINT) and `kill` (SIGTERM) during training: the first asks the run to stop after the
// step it is in, keeping the files of its finished epochs; a second one ends the program at once.
#pragma once

#include <stdexcept>
#include <string>

namespace tinyrec::cli {

// Installs the handlers for its lifetime (a command's), and restores the previous ones after.
class StopOnSignal {
 public:
  StopOnSignal();
  ~StopOnSignal();
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;
};

// The signal that asked the run to stop (SIGINT, SIGTERM), or 0.
int stop_requested();
// "SIGINT", "SIGTERM".
std::string signal_name(int signal);

// A run stopped by a signal: main() prints the message and exits with 128 + signal (130 for
// Ctrl-C, 143 for SIGTERM), as a shell reports a program the signal ended.
class Interrupted : public std::runtime_error {
 public:
  Interrupted(int signal, const std::string& message)
      : std::runtime_error(message), signal_(signal) {}
  int signal() const { return signal_; }

 private:
  int signal_;
};

// Throws Interrupted("interrupted by SIGINT " + where) for the signal stop_requested() holds; call
// it between steps once stop_requested() is non-zero.
[[noreturn]] void throw_interrupted(const std::string& where);

}  // namespace tinyrec::cli
