// A run folder is never replaced or shared by accident, a failed write says why and what is kept,
// and Ctrl-C or `kill` stops a run between steps with its finished epochs kept.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/interrupt.hpp"
#include "cli/run_folder.hpp"
#include "cli_run.hpp"
#include "tests/test_support.hpp"

extern char** environ;

namespace fs = std::filesystem;
using nlohmann::json;
using tinyrec_test::read_bytes;
using tinyrec_test::run;
using tinyrec_test::run_shell;
using tinyrec_test::scratch;

namespace {

int epochs_done(const fs::path& out) {
  return json::parse(read_bytes(out / "checkpoint" / "train_state.json")).at("epochs_done");
}

// Every .npy of two checkpoints (weights and optimizer state), byte for byte.
void check_same_checkpoints(const fs::path& a, const fs::path& b) {
  size_t compared = 0;
  for (const auto& e : fs::recursive_directory_iterator(a / "checkpoint")) {
    if (!e.is_regular_file() || e.path().extension() != ".npy") continue;
    CAPTURE(e.path());
    CHECK(read_bytes(e.path()) == read_bytes(b / fs::relative(e.path(), a)));
    ++compared;
  }
  CHECK(compared > 20);
}

// The program started in the background with its output in a file, as a user's shell would.
struct Background {
  pid_t pid = -1;
  fs::path log;

  Background(const std::vector<std::string>& args, const fs::path& log_file) : log(log_file) {
    std::vector<char*> argv;
    std::string program = TINYREC_CLI;
    argv.push_back(program.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    REQUIRE(posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
  }
  // Waits (up to two minutes: sanitizer builds are slow) until `path` exists or the program ended.
  bool wait_for(const fs::path& path) const {
    const auto until = std::chrono::steady_clock::now() + std::chrono::minutes(2);
    while (!fs::exists(path) && std::chrono::steady_clock::now() < until) {
      if (::waitpid(pid, nullptr, WNOHANG) == pid) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return fs::exists(path);
  }
  int wait_status() {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    pid = -1;
    return status;
  }
  ~Background() {
    if (pid > 0) ::kill(pid, SIGKILL), ::waitpid(pid, nullptr, 0);
  }
};

// A DIN run of three epochs, each long enough (a second or so) for a signal sent after epoch 1's
// files appear to land inside epoch 2.
const std::string kRun = "--model din --users 800 --epochs 3 --quiet";

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace

TEST_CASE("cli: --out that holds a run is refused, naming it; --overwrite replaces it") {
  const fs::path out = scratch("folder_taken");
  const auto first = run("train --model din --users 60 --epochs 2 --quiet --out " + out.string());
  REQUIRE_MESSAGE(first.status == 0, first.output);
  const std::string metrics = read_bytes(out / "metrics.json");
  const std::string weights = read_bytes(out / "checkpoint" / "mlp.layers.0.weight.npy");
  std::ofstream(out / "notes.txt") << "mine\n";  // a user's own file in the folder

  const auto typo = run("train --model base --users 60 --epochs 1 --quiet --out " + out.string());
  CHECK(typo.status == 1);
  CHECK(typo.output == "tinyrec: error: --out " + out.string() +
                           " already holds a din run, 2 of 2 epochs done; `tinyrec train "
                           "--resume " +
                           out.string() +
                           "` continues it, --overwrite replaces it, or choose another --out\n");
  CHECK(read_bytes(out / "metrics.json") == metrics);
  CHECK(read_bytes(out / "checkpoint" / "mlp.layers.0.weight.npy") == weights);

  // A checkpoint alone (metrics.json lost) is a run too.
  fs::remove(out / "metrics.json");
  const auto again = run("train --model din --users 60 --epochs 1 --quiet --out " + out.string());
  CHECK(again.status == 1);
  CHECK(again.output.find("already holds a din run;") != std::string::npos);

  // --resume continues it; --overwrite and --resume together make no sense.
  const auto both = run("train --resume " + out.string() + " --epochs 3 --overwrite --quiet");
  CHECK(both.status == 1);
  CHECK(both.output.find("--resume continues a run; --overwrite replaces one") !=
        std::string::npos);
  const auto resumed = run("train --resume " + out.string() + " --epochs 3 --quiet");
  CHECK_MESSAGE(resumed.status == 0, resumed.output);
  CHECK(epochs_done(out) == 3);

  // --overwrite: the old run's files go, the user's stay, and the new run is whole.
  const auto replaced =
      run("train --model base --users 60 --epochs 1 --quiet --overwrite --out " + out.string());
  REQUIRE_MESSAGE(replaced.status == 0, replaced.output);
  const json m = json::parse(read_bytes(out / "metrics.json"));
  CHECK(m.at("model") == "base");
  CHECK(m.at("curve").size() == 1);
  CHECK(epochs_done(out) == 1);
  CHECK(json::parse(read_bytes(out / "checkpoint" / "config.json")).at("model") == "base");
  CHECK(read_bytes(out / "notes.txt") == "mine\n");

  // An experiment's folder holding results is refused the same way.
  const fs::path exp = scratch("folder_taken_experiment");
  const std::string flags =
      "experiment --seeds 1 --epochs 1 --correlations 0.5 --models mmoe --train-rows 200 "
      "--test-rows 50 --quiet --out " +
      exp.string();
  REQUIRE(run(flags).status == 0);
  const std::string table = read_bytes(exp / "table.md");
  const auto twice = run(flags + " --lr 0.01");
  CHECK(twice.status == 1);
  CHECK(twice.output.find("--out " + exp.string() + " already holds an experiment's results") !=
        std::string::npos);
  CHECK(read_bytes(exp / "table.md") == table);
  CHECK(run(flags + " --lr 0.01 --overwrite").status == 0);
  fs::remove_all(out);
  fs::remove_all(exp);
}

TEST_CASE("cli: a folder another run holds is refused while it runs; a dead run's lock is not") {
  const fs::path out = scratch("folder_locked");
  const auto first = run("train --model din --users 60 --epochs 1 --quiet --out " + out.string());
  REQUIRE_MESSAGE(first.status == 0, first.output);
  CHECK(fs::is_regular_file(out / ".lock"));  // left behind, and harmless: see below
  {
    // This test process stands for a run in progress.
    tinyrec::cli::RunFolderLock held(out.string(), "--out");
    const std::string holder = "(process " + std::to_string(::getpid()) + ")";
    const std::string second_out = scratch("folder_locked_other").string();
    for (const std::string& args :
         {"train --resume " + out.string() + " --epochs 2 --quiet",
          "train --model din --users 60 --epochs 1 --quiet --overwrite --out " + out.string(),
          "experiment --seeds 1 --epochs 1 --correlations 0.5 --models mmoe --train-rows 200 "
          "--test-rows 50 --quiet --out " +
              out.string()}) {
      CAPTURE(args);
      const auto r = run(args);
      CHECK(r.status == 1);
      const std::string flag = args.find("--resume") != std::string::npos ? "--resume" : "--out";
      CHECK(r.output == "tinyrec: error: " + flag + " " + out.string() +
                            " is in use by another tinyrec run " + holder +
                            "; wait for it to end, or choose another folder\n");
    }
    CHECK(epochs_done(out) == 1);
  }
  // A run killed outright (no chance to clean up) leaves its lock file; the next run goes ahead.
  const fs::path dead = scratch("folder_locked_dead");
  Background killed(words("train " + kRun + " --out " + dead.string()), dead.string() + ".log");
  REQUIRE(killed.wait_for(dead / "metrics.json"));
  ::kill(killed.pid, SIGKILL);
  const int status = killed.wait_status();
  CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
  CHECK(fs::is_regular_file(dead / ".lock"));
  const auto after = run("train --resume " + dead.string() + " --quiet");
  CHECK_MESSAGE(after.status == 0, after.output);
  CHECK(epochs_done(dead) == 3);
  fs::remove_all(out);
  fs::remove_all(dead);
  fs::remove(dead.string() + ".log");
}

TEST_CASE("cli: a write on a full disk names the reason and keeps the last whole epoch") {
  // A small tmpfs in a mount namespace of its own (no trace on the machine): first sized to hold
  // one epoch's files and a half — epoch 2's checkpoint, written beside epoch 1's, cannot fit.
  const fs::path dir = scratch("full_disk");
  fs::create_directories(dir / "disk");
  const std::string cli = TINYREC_CLI, mnt = (dir / "disk").string(), run_dir = mnt + "/run";
  const std::string train = cli + " train --model din --users 60 --quiet --out " + run_dir;
  const auto probe =
      run_shell("unshare -rm sh -c 'mount -t tmpfs -o size=64m tmpfs " + mnt + " && " + train +
                " --epochs 1 >/dev/null 2>&1 && df -k " + mnt + " | tail -1'");
  REQUIRE_MESSAGE(probe.status == 0, probe.output);
  const long used_kb = std::stol(words(probe.output).at(2));
  CAPTURE(used_kb);
  REQUIRE(used_kb > 50);
  const std::string size = std::to_string(used_kb * 3 / 2) + "k";
  const auto full =
      run_shell("unshare -rm sh -c 'mount -t tmpfs -o size=" + size + " tmpfs " + mnt + " && " +
                train + " --epochs 2; echo status $?; ls -A " + run_dir + "; grep -o " +
                "\"epochs_done\\\": [0-9]*\" " + run_dir + "/checkpoint/train_state.json'");
  CAPTURE(full.output);
  const std::string& o = full.output;
  CHECK(o.find("tinyrec: error: cannot write " + run_dir + "/checkpoint.tmp/") !=
        std::string::npos);
  CHECK(o.find(": No space left on device\nkept " + run_dir +
               "/metrics.json, curve.csv and curve.svg of epochs 1-1 and the checkpoint of epoch "
               "1 (tinyrec train --resume " +
               run_dir + " continues from it)\n") != std::string::npos);
  CHECK(o.find("status 1\n") != std::string::npos);
  // What is left (listed after the status): epoch 1's files and checkpoint, and no half-written
  // checkpoint.tmp.
  const std::string left = o.substr(std::min(o.size(), o.find("status 1\n")));
  CHECK(left.find("\ncheckpoint\n") != std::string::npos);
  CHECK(left.find("\nmetrics.json\n") != std::string::npos);
  CHECK(left.find("checkpoint.tmp") == std::string::npos);
  CHECK(left.find("epochs_done\": 1\n") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("cli: Ctrl-C or kill stops after the step, keeps the finished epochs, and resumes") {
  const fs::path whole = scratch("signal_whole");
  const auto straight = run("train " + kRun + " --out " + whole.string());
  REQUIRE_MESSAGE(straight.status == 0, straight.output);
  for (const int sig : {SIGINT, SIGTERM}) {
    const std::string name = tinyrec::cli::signal_name(sig);
    CAPTURE(name);
    const fs::path out = scratch("signal_" + name);
    Background training(words("train " + kRun + " --out " + out.string()), out.string() + ".log");
    REQUIRE(training.wait_for(out / "metrics.json"));  // epoch 1's files: epoch 2 has begun
    ::kill(training.pid, sig);
    const int status = training.wait_status();
    const std::string log = read_bytes(out.string() + ".log");
    CAPTURE(log);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 128 + sig);  // 130, 143: as a shell reports the signal's end
    const std::string line = "tinyrec: interrupted by " + name + " at epoch 2, step ";
    const size_t at = log.find(line);
    REQUIRE(at != std::string::npos);
    const std::string rest = log.substr(at + line.size());
    CHECK(rest.substr(rest.find(';')) ==
          "; kept " + out.string() +
              "/metrics.json, curve.csv and curve.svg of epochs 1-1 and the checkpoint of epoch 1 "
              "(tinyrec train --resume " +
              out.string() + " continues from it)\n");
    CHECK(epochs_done(out) == 1);
    CHECK(json::parse(read_bytes(out / "metrics.json")).at("curve").size() == 1);
    // Continued, it ends as the run never stopped.
    const auto resumed = run("train --resume " + out.string() + " --quiet");
    REQUIRE_MESSAGE(resumed.status == 0, resumed.output);
    check_same_checkpoints(whole, out);
    CHECK(read_bytes(whole / "curve.csv") == read_bytes(out / "curve.csv"));
    fs::remove_all(out);
    fs::remove(out.string() + ".log");
  }
  fs::remove_all(whole);
}

TEST_CASE("cli: Ctrl-C stops an experiment between steps, writing nothing half-done") {
  const fs::path out = scratch("signal_experiment");
  const fs::path log = out.string() + ".log";
  Background exp(words("experiment --seeds 2 --epochs 30 --correlations 0.5 --models mmoe "
                       "--train-rows 4000 --test-rows 200 --out " +
                       out.string()),
                 log);
  // Its first run's line: the second run has begun.
  const auto until = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  while (read_bytes(log).find("[1/2]") == std::string::npos &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(read_bytes(log).find("[1/2]") != std::string::npos);
  ::kill(exp.pid, SIGINT);
  const int status = exp.wait_status();
  const std::string text = read_bytes(log);
  CAPTURE(text);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  CHECK(text.find("tinyrec: interrupted by SIGINT in run 2 of 2 (epoch ") != std::string::npos);
  CHECK(text.find("nothing written (an experiment writes its tables when every run has "
                  "finished)\n") != std::string::npos);
  CHECK(!fs::exists(out / "table.md"));
  CHECK(!fs::exists(out / "runs.csv"));
  fs::remove_all(out);
  fs::remove(log);
}

TEST_CASE("StopOnSignal: the first signal asks for a stop, a second ends the program at once") {
  for (const int sig : {SIGINT, SIGTERM}) {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      tinyrec::cli::StopOnSignal stop;
      ::raise(sig);
      if (tinyrec::cli::stop_requested() != sig) ::_exit(10);  // the first only asks
      ::raise(sig);                                            // the second ends it here
      ::_exit(11);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == sig);
  }
  // Outside a command the handlers are the previous ones, and nothing is requested.
  CHECK(tinyrec::cli::stop_requested() == 0);
}
