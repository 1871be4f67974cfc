// Stopping on a signal between steps: see interrupt.hpp.
#include "cli/interrupt.hpp"

#include <csignal>

namespace tinyrec::cli {

namespace {

volatile std::sig_atomic_t requested = 0;

extern "C" void on_stop_signal(int sig) {
  if (requested != 0) {  // the second: stop now, reported as the signal's own end
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  requested = sig;
}

struct sigaction previous_int {
}, previous_term{};

}  // namespace

StopOnSignal::StopOnSignal() {
  requested = 0;
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // reads and writes in progress carry on; the step loop checks
  sigaction(SIGINT, &action, &previous_int);
  sigaction(SIGTERM, &action, &previous_term);
}

StopOnSignal::~StopOnSignal() {
  sigaction(SIGINT, &previous_int, nullptr);
  sigaction(SIGTERM, &previous_term, nullptr);
}

int stop_requested() {
  return requested;
}

void throw_interrupted(const std::string& where) {
  const int sig = requested;
  throw Interrupted(sig, "interrupted by " + signal_name(sig) + " " + where);
}

std::string signal_name(int signal) {
  return signal == SIGINT    ? "SIGINT"
         : signal == SIGTERM ? "SIGTERM"
                             : "signal " + std::to_string(signal);
}

}  // namespace tinyrec::cli
