// A run folder belongs to one run: a new run refuses a folder that holds another's files, and a
// running one holds a lock on its folder, so that no typo replaces a finished run and no two runs
// write into one folder.
#pragma once

#include <string>

namespace tinyrec::cli {

// Held for a run's whole life: a POSIX record lock on DIR/.lock (created, with DIR, if missing).
// A second tinyrec process asking for the same folder is refused with one line naming the holder;
// the kernel drops the lock when its process ends, however it ends, so a lock left by a killed
// run never blocks.
class RunFolderLock {
 public:
  // `flag` names how the folder was given ("--out", "--resume") in the refusal.
  RunFolderLock(const std::string& dir, const std::string& flag);
  ~RunFolderLock();
  RunFolderLock(const RunFolderLock&) = delete;
  RunFolderLock& operator=(const RunFolderLock&) = delete;

 private:
  int fd_ = -1;
};

// What a folder holds of an earlier training run, in words ("a din run, 4 of 4 epochs done"), or
// "" when it holds none (no metrics.json, no checkpoint folder).
std::string run_in_folder(const std::string& dir);

// For a new run in `dir`: throws naming the run `dir` holds and the ways on (--resume, --overwrite,
// another --out) unless `overwrite`, which removes that run's files (metrics.json, the curves, the
// checkpoint folders) and leaves everything else in the folder.
void claim_run_folder(const std::string& dir, bool overwrite);

}  // namespace tinyrec::cli
