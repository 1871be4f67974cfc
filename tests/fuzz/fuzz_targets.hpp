// What each fuzz target does with one input: hand the bytes to a reader as its file(s) and accept a
// clear error (std::exception) as the right answer to garbage. A crash, a hang, a leak or a
// sanitizer report is a finding, and so is an input a reader accepts but returns broken (an id
// outside its vocabulary, a session too short): the target aborts on it. The same functions run
// every kept input (seeds and regressions) in the normal test suite
// (tests/data/test_fuzz_inputs.cpp), so a fixed finding stays fixed.
//
// Readers that take two files (train and test, ratings and movies, schema and table) get one input
// cut at the first line "====" (the second file is empty when there is none).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace tinyrec_fuzz {

using Target = std::function<int(const uint8_t*, size_t)>;

// Every target by name: amazon, movielens, tabular_csv, npy, checkpoint, yoochoose, diginetica,
// movielens_sessions, rating_tasks.
const std::map<std::string, Target>& targets();
// The seed inputs of a target, made from the readers' test fixtures (good files and each kind of
// bad one), joined with the "====" line where the target reads two files.
std::vector<std::string> seed_inputs(const std::string& target);

// Helpers the tests share: an input cut into its two files, and a file in this process's scratch
// folder holding `bytes` (its path is returned).
std::pair<std::string, std::string> split_input(const uint8_t* data, size_t size);
std::string write_file(const std::string& name, const std::string& bytes);

}  // namespace tinyrec_fuzz
