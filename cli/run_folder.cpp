// Run folders kept safe: see run_folder.hpp.
#include "cli/run_folder.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace tinyrec::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A record lock (fcntl) rather than flock: F_GETLK names the process that holds it.
struct flock whole_file(short type) {
  struct flock l {};
  l.l_type = type;
  l.l_whence = SEEK_SET;
  l.l_start = 0;
  l.l_len = 0;
  return l;
}

json read_json_or_null(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return nullptr;
  return json::parse(in, nullptr, false);
}

}  // namespace

RunFolderLock::RunFolderLock(const std::string& dir, const std::string& flag) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw std::runtime_error(flag + " " + dir + ": cannot create the folder: " + ec.message());
  const std::string path = (fs::path(dir) / ".lock").string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd_ < 0)
    throw std::runtime_error(flag + " " + dir + ": cannot open its lock file " + path + ": " +
                             std::strerror(errno));
  struct flock l = whole_file(F_WRLCK);
  if (::fcntl(fd_, F_SETLK, &l) == 0) return;
  const int err = errno;
  struct flock holder = whole_file(F_WRLCK);
  const bool named = ::fcntl(fd_, F_GETLK, &holder) == 0 && holder.l_type != F_UNLCK;
  ::close(fd_);
  fd_ = -1;
  if (err != EACCES && err != EAGAIN)
    throw std::runtime_error(flag + " " + dir + ": cannot lock " + path + ": " +
                             std::strerror(err));
  throw std::runtime_error(
      flag + " " + dir + " is in use by another tinyrec run" +
      (named ? " (process " + std::to_string(holder.l_pid) + ")" : std::string()) +
      "; wait for it to end, or choose another folder");
}

RunFolderLock::~RunFolderLock() {
  if (fd_ >= 0) ::close(fd_);  // closing drops the lock
}

std::string run_in_folder(const std::string& dir) {
  const fs::path d(dir);
  const json metrics = read_json_or_null(d / "metrics.json");
  std::string checkpoint;
  for (const char* name : {"checkpoint", "checkpoint.old"})
    if (checkpoint.empty() && fs::is_directory(d / name)) checkpoint = (d / name).string();
  if (!fs::exists(d / "metrics.json") && checkpoint.empty()) return "";
  // The model and the epochs, from whichever file says them; "a run" when none does.
  std::string model;
  double done = -1, planned = -1;
  if (metrics.is_object()) {
    if (metrics.value("model", json()).is_string()) model = metrics["model"].get<std::string>();
    const json train = metrics.value("train", json::object());
    if (train.is_object() && train.value("epochs", json()).is_number())
      done = train["epochs"].get<double>();
    const json config = metrics.value("config", json::object());
    if (config.is_object() && config.value("train", json()).is_object() &&
        config["train"].value("epochs", json()).is_number())
      planned = config["train"]["epochs"].get<double>();
  }
  if (!checkpoint.empty()) {
    const json config = read_json_or_null(fs::path(checkpoint) / "config.json");
    if (model.empty() && config.is_object() && config.value("model", json()).is_string())
      model = config["model"].get<std::string>();
  }
  std::string text = model.empty() ? "a run" : "a " + model + " run";
  if (done >= 0) {
    std::ostringstream os;
    os << done;
    text += ", " + os.str();
    if (planned > 0) text += " of " + std::to_string(std::llround(planned));
    text += done == 1 ? " epoch done" : " epochs done";
  }
  return text;
}

void claim_run_folder(const std::string& dir, bool overwrite) {
  const std::string found = run_in_folder(dir);
  if (found.empty()) return;
  if (!overwrite)
    throw std::runtime_error("--out " + dir + " already holds " + found +
                             "; `tinyrec train --resume " + dir +
                             "` continues it, --overwrite replaces it, or choose another --out");
  for (const char* name : {"metrics.json", "curve.csv", "curve.svg", "checkpoint", "checkpoint.old",
                           "checkpoint.tmp"}) {
    std::error_code ec;
    fs::remove_all(fs::path(dir) / name, ec);
    if (ec)
      throw std::runtime_error("--overwrite: cannot remove " + (fs::path(dir) / name).string() +
                               ": " + ec.message());
  }
}

}  // namespace tinyrec::cli
