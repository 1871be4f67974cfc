// Writing a file so that no reader, and no later run, ever finds half of it: the content goes to
// PATH.tmp, which is renamed over PATH only once it is complete. A crash or an error while writing
// leaves PATH as it was. Every file the library and the command line write goes through here:
// .npy tensors, checkpoint manifests, training states, run configurations, metrics, curves, plots,
// tables and predictions.
#pragma once

#include <functional>
#include <iosfwd>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tinyrec {

// A file that could not be written, with the system's reason ("cannot write PATH: No space left on
// device"); what was there before is untouched.
struct WriteError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The name a file is written under before it is renamed into place.
std::string temporary_path(const std::string& path);

// Renames `from` over `to`; throws WriteError "cannot rename FROM to TO: REASON".
void rename_into_place(const std::string& from, const std::string& to);

// Opens PATH.tmp, lets `write` fill it, checks that every byte reached the file, and renames it
// over `path`. When the file cannot be opened, when writing fails (a full disk) or when `write`
// throws, PATH.tmp is removed, `path` is untouched, and the error (WriteError "cannot write PATH:
// REASON" with the system's reason, or what `write` threw) propagates.
void write_file_atomically(const std::string& path,
                           const std::function<void(std::ostream&)>& write);

// write_file_atomically with the whole content at hand.
void write_text_atomically(const std::string& path, std::string_view text);

}  // namespace tinyrec
